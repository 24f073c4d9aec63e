//! XML input rules shared by the envelope and the event parser: no DTD, so no entity can ever
//! be declared or expanded, whatever the parser would do with one.

/// Why an XML document was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum XmlError {
    #[error("document type declarations are not accepted")]
    Dtd,
    #[error("malformed XML: {0}")]
    Malformed(String),
    #[error("root element must be <xml>")]
    Root,
    #[error("<Encrypt> must appear exactly once, found {0}")]
    EncryptCount(usize),
    #[error("<{0}> has unexpected content")]
    Content(&'static str),
    #[error("<{0}> appears more than once")]
    Repeated(String),
}

/// Rejects any markup declaration (`<!DOCTYPE`, `<!ENTITY`, ...). Only CDATA sections and
/// comments may start with `<!`. Scans for `!`, which base64 never contains, with the
/// vectorised single-character search, so it costs little next to the parse.
pub fn reject_dtd(xml: &str) -> Result<(), XmlError> {
    let bytes = xml.as_bytes();
    let mut from = 0;
    while let Some(offset) = xml[from..].find('!') {
        let at = from + offset;
        if at > 0 && bytes[at - 1] == b'<' {
            let rest = &bytes[at + 1..];
            if !(rest.starts_with(b"[CDATA[") || rest.starts_with(b"--")) {
                return Err(XmlError::Dtd);
            }
        }
        from = at + 1;
    }
    Ok(())
}

/// Resolves a reference in text: the five predefined entities and character references.
/// Anything else would need a DTD, which is never accepted.
pub fn resolve_reference(reference: &quick_xml::events::BytesRef<'_>) -> Result<char, XmlError> {
    let resolved = if reference.is_char_ref() {
        reference.resolve_char_ref().ok().flatten()
    } else {
        match &**reference {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => None,
        }
    };
    resolved.ok_or_else(|| {
        XmlError::Malformed(format!("unknown entity reference `&{};`", &**reference))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cdata_and_comments_pass_and_declarations_do_not() {
        assert!(reject_dtd("<xml><a><![CDATA[x]]></a><!-- c --></xml>").is_ok());
        for bad in [
            "<!DOCTYPE xml [<!ENTITY x \"y\">]><xml>&x;</xml>",
            "<xml><!ENTITY x SYSTEM \"file:///etc/passwd\"></xml>",
            "<!doctype xml><xml/>",
            "<xml><!",
        ] {
            assert_eq!(reject_dtd(bad), Err(XmlError::Dtd), "{bad}");
        }
    }
}
