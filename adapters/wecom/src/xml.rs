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
}

/// Rejects any markup declaration (`<!DOCTYPE`, `<!ENTITY`, ...). Only CDATA sections and
/// comments may start with `<!`. A byte scan, so it costs nothing next to the parse.
pub fn reject_dtd(xml: &str) -> Result<(), XmlError> {
    let bytes = xml.as_bytes();
    let mut at = 0;
    while let Some(offset) = bytes[at..].windows(2).position(|w| w == b"<!") {
        let rest = &bytes[at + offset + 2..];
        if !(rest.starts_with(b"[CDATA[") || rest.starts_with(b"--")) {
            return Err(XmlError::Dtd);
        }
        at += offset + 2;
    }
    Ok(())
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
