//! The outer XML of a POSTed callback: `<xml><ToUserName/><AgentID/><Encrypt/></xml>`. Only
//! `Encrypt` is covered by the signature, so it is read verbatim and must appear exactly once.

use std::borrow::Cow;

use quick_xml::{Reader, events::Event};

use crate::xml::{XmlError, reject_dtd};

/// The envelope's fields, borrowed from the body where possible. `Encrypt` is what the
/// signature covers; the others are routing hints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope<'a> {
    pub to_user_name: Option<Cow<'a, str>>,
    pub agent_id: Option<Cow<'a, str>>,
    pub encrypt: Cow<'a, str>,
}

/// Which child element the reader is inside.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Field {
    None,
    ToUserName,
    AgentId,
    Encrypt,
    Other,
}

/// Parses an envelope. Unknown elements are ignored; a second `Encrypt`, nested markup or an
/// entity inside a field, or any DTD is an error.
pub fn parse(body: &str) -> Result<Envelope<'_>, XmlError> {
    reject_dtd(body)?;
    let mut reader = Reader::from_str(body);
    let (mut to_user_name, mut agent_id, mut encrypt) = (None, None, Vec::new());
    let (mut depth, mut field) = (0usize, Field::None);
    let mut text: Cow<'_, str> = Cow::Borrowed("");
    let malformed = |e: quick_xml::Error| XmlError::Malformed(e.to_string());
    loop {
        match reader.read_event().map_err(malformed)? {
            Event::Start(start) => {
                depth += 1;
                match depth {
                    1 if start.name().as_ref() == "xml" => {}
                    1 => return Err(XmlError::Root),
                    2 => {
                        field = match start.name().as_ref() {
                            "ToUserName" => Field::ToUserName,
                            "AgentID" => Field::AgentId,
                            "Encrypt" => Field::Encrypt,
                            _ => Field::Other,
                        };
                        text = Cow::Borrowed("");
                    }
                    _ if field == Field::Other => {}
                    _ => return Err(XmlError::Content(field_name(field))),
                }
            }
            Event::Empty(empty) => match depth {
                0 if empty.name().as_ref() == "xml" => break,
                0 => return Err(XmlError::Root),
                1 if empty.name().as_ref() == "Encrypt" => encrypt.push(Cow::Borrowed("")),
                _ => {}
            },
            Event::Text(t) if depth == 2 && field != Field::Other => {
                append(&mut text, t.into_inner())
            }
            Event::CData(t) if depth == 2 && field != Field::Other => {
                append(&mut text, t.into_inner())
            }
            Event::GeneralRef(_) if depth == 2 && field != Field::Other => {
                return Err(XmlError::Content(field_name(field)));
            }
            Event::End(_) => {
                if depth == 2 {
                    let value = trim(std::mem::take(&mut text));
                    match field {
                        Field::ToUserName => to_user_name = Some(value),
                        Field::AgentId => agent_id = Some(value),
                        Field::Encrypt => encrypt.push(value),
                        Field::None | Field::Other => {}
                    }
                    field = Field::None;
                }
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    break;
                }
            }
            Event::Eof => {
                return Err(XmlError::Malformed(
                    "document ended inside an element".into(),
                ));
            }
            Event::DocType(_) => return Err(XmlError::Dtd),
            _ => {}
        }
    }
    // Nothing but whitespace may follow the root element.
    loop {
        match reader.read_event().map_err(malformed)? {
            Event::Eof => break,
            Event::Text(t) if t.trim_ascii().is_empty() => {}
            Event::Comment(_) => {}
            _ => return Err(XmlError::Malformed("content after the root element".into())),
        }
    }
    if encrypt.len() != 1 {
        return Err(XmlError::EncryptCount(encrypt.len()));
    }
    Ok(Envelope {
        to_user_name,
        agent_id,
        encrypt: encrypt.remove(0),
    })
}

/// Appends a chunk of text, borrowing while there is only one.
fn append<'a>(text: &mut Cow<'a, str>, chunk: Cow<'a, str>) {
    if text.is_empty() {
        *text = chunk;
    } else {
        text.to_mut().push_str(&chunk);
    }
}

/// Trims surrounding whitespace without copying borrowed text.
fn trim(text: Cow<'_, str>) -> Cow<'_, str> {
    match text {
        Cow::Borrowed(s) => Cow::Borrowed(s.trim()),
        Cow::Owned(s) if s.trim().len() == s.len() => Cow::Owned(s),
        Cow::Owned(s) => Cow::Owned(s.trim().to_string()),
    }
}

fn field_name(field: Field) -> &'static str {
    match field {
        Field::ToUserName => "ToUserName",
        Field::AgentId => "AgentID",
        Field::Encrypt => "Encrypt",
        Field::None | Field::Other => "xml",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_documented_envelope() {
        let env = parse(
            "<xml>\n  <ToUserName><![CDATA[wwexamplecorp]]></ToUserName>\n  <AgentID><![CDATA[1000002]]></AgentID>\n  <Encrypt><![CDATA[ abc+/= ]]></Encrypt>\n</xml>\n",
        )
        .unwrap();
        assert_eq!(env.to_user_name.as_deref(), Some("wwexamplecorp"));
        assert_eq!(env.agent_id.as_deref(), Some("1000002"));
        assert_eq!(env.encrypt, "abc+/=");
        // Plain text, unknown elements and no AgentID are fine.
        let env = parse("<xml><Encrypt>QUJD</Encrypt><Extra><a>1</a></Extra></xml>").unwrap();
        assert_eq!((&*env.encrypt, env.agent_id), ("QUJD", None));
    }

    #[test]
    fn refuses_what_wecom_never_sends() {
        for (body, expected) in [
            (
                "<xml><Encrypt>a</Encrypt><Encrypt>b</Encrypt></xml>",
                XmlError::EncryptCount(2),
            ),
            (
                "<xml><ToUserName>x</ToUserName></xml>",
                XmlError::EncryptCount(0),
            ),
            ("<xml/>", XmlError::EncryptCount(0)),
            ("<root><Encrypt>a</Encrypt></root>", XmlError::Root),
            (
                "<xml><Encrypt><b>a</b></Encrypt></xml>",
                XmlError::Content("Encrypt"),
            ),
            (
                "<xml><Encrypt>a&amp;b</Encrypt></xml>",
                XmlError::Content("Encrypt"),
            ),
            (
                "<!DOCTYPE xml [<!ENTITY e \"x\">]><xml><Encrypt>&e;</Encrypt></xml>",
                XmlError::Dtd,
            ),
        ] {
            assert_eq!(parse(body), Err(expected), "{body}");
        }
        for body in [
            "",
            "   ",
            "<xml><Encrypt>a</Encrypt>",
            "not xml",
            "<xml><Encrypt>a</Encrypt></xml><xml/>",
            "<xml><Encrypt>a</Encrypt></wrong>",
        ] {
            assert!(
                matches!(
                    parse(body),
                    Err(XmlError::Malformed(_) | XmlError::EncryptCount(_) | XmlError::Root)
                ),
                "{body:?}: {:?}",
                parse(body)
            );
        }
    }
}
