//! Link codes: the part of `/l/{code}` that names a link. Short enough for a chat message,
//! random enough that nobody finds other people's links by trying codes.

/// Characters in a generated code: 62^10 ≈ 8.4 × 10^17 codes, about 59.5 bits, so a guesser
/// firing a thousand requests a second against a million links needs some 27 years for one hit.
pub const CODE_LEN: usize = 10;
/// Longest code accepted in a path; the column allows it, so a later longer format still fits.
const MAX_CODE_LEN: usize = 32;
const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/// Random bytes at or above this are thrown away: 248 = 4 × 62, so every character keeps the
/// same probability.
const REJECT_FROM: u8 = 248;

/// A link code: base62, as generated or as read from a path.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LinkCode(String);

impl LinkCode {
    /// A fresh code from the operating system's CSPRNG.
    pub fn generate() -> Result<Self, getrandom::Error> {
        let mut code = String::with_capacity(CODE_LEN);
        // Enough bytes for one code almost always (3 % of them are rejected).
        let mut bytes = [0u8; 2 * CODE_LEN];
        while code.len() < CODE_LEN {
            getrandom::fill(&mut bytes)?;
            for byte in bytes {
                if byte < REJECT_FROM && code.len() < CODE_LEN {
                    code.push(char::from(ALPHABET[usize::from(byte % 62)]));
                }
            }
        }
        Ok(Self(code))
    }

    /// A code from a request path, or `None` when it cannot be one: such a request is answered
    /// without looking anything up.
    pub fn parse(text: &str) -> Option<Self> {
        let valid = (1..=MAX_CODE_LEN).contains(&text.len())
            && text.bytes().all(|b| b.is_ascii_alphanumeric());
        valid.then(|| Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn generated_codes_are_ten_base62_characters_and_distinct() {
        let codes: Vec<LinkCode> = (0..10_000).map(|_| LinkCode::generate().unwrap()).collect();
        for code in &codes {
            assert_eq!(code.as_str().len(), CODE_LEN);
            assert!(
                code.as_str().bytes().all(|b| ALPHABET.contains(&b)),
                "{code:?}"
            );
            assert_eq!(LinkCode::parse(code.as_str()).as_ref(), Some(code));
        }
        let distinct: HashSet<&LinkCode> = codes.iter().collect();
        assert_eq!(distinct.len(), codes.len());
        // Every character shows up: nothing is stuck at a few values.
        let used: HashSet<u8> = codes.iter().flat_map(|c| c.as_str().bytes()).collect();
        assert_eq!(used.len(), ALPHABET.len());
    }

    #[test]
    fn paths_that_cannot_be_codes_are_refused() {
        for bad in [
            "",
            "abc-def",
            "abc def",
            "../etc",
            "ab%2F",
            &"a".repeat(33),
            "码码",
        ] {
            assert_eq!(LinkCode::parse(bad), None, "{bad:?}");
        }
        assert!(LinkCode::parse("Ab3").is_some());
    }
}
