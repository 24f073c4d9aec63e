//! Anonymous visitor ids: an HMAC of the client's address and User-Agent under a secret salt.
//! The same person on the same network and browser gets the same id, so unique visitors can be
//! counted; the address itself is never stored, and without the salt the id cannot be turned
//! back into one by hashing every address.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// Random bytes in a generated salt.
const SALT_BYTES: usize = 32;
const HEX: &[u8; 16] = b"0123456789abcdef";

/// A visitor id: HMAC-SHA256(salt, address + "\n" + user agent).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Visitor([u8; 32]);

impl Visitor {
    /// Lower-case hex, as stored.
    pub fn to_hex(&self) -> String {
        hex(&self.0)
    }
}

impl std::fmt::Debug for Visitor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// Hashes clicks into visitor ids under one salt. The keyed state is prepared once and copied
/// per click, which halves the work of each hash.
#[derive(Clone)]
pub struct VisitorHasher {
    keyed: Hmac<Sha256>,
}

impl VisitorHasher {
    pub fn new(salt: &[u8]) -> Self {
        Self {
            keyed: Hmac::<Sha256>::new_from_slice(salt).expect("HMAC accepts keys of any length"),
        }
    }

    pub fn visitor(&self, address: &str, user_agent: &str) -> Visitor {
        let mut mac = self.keyed.clone();
        mac.update(address.as_bytes());
        mac.update(b"\n");
        mac.update(user_agent.as_bytes());
        Visitor(mac.finalize().into_bytes().into())
    }
}

/// A new salt: 32 bytes from the operating system's CSPRNG, as hex.
pub fn generate_salt() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; SALT_BYTES];
    getrandom::fill(&mut bytes)?;
    Ok(hex(&bytes))
}

fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(2 * bytes.len());
    for byte in bytes {
        out.push(char::from(HEX[usize::from(byte >> 4)]));
        out.push(char::from(HEX[usize::from(byte & 0xf)]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const UA: &str = "Mozilla/5.0 (iPhone) wxwork/4.1.16 MicroMessenger/7.0.1";

    #[test]
    fn the_id_is_the_hmac_of_address_newline_user_agent() {
        // Python: hmac.new(b"salt", b"203.0.113.7\nMozilla/5.0", hashlib.sha256).hexdigest()
        assert_eq!(
            VisitorHasher::new(b"salt")
                .visitor("203.0.113.7", "Mozilla/5.0")
                .to_hex(),
            "5b010274756d24a26e752638ca182b29c477cd8a40c82725f0bb15bc14a3d233"
        );
    }

    #[test]
    fn the_id_hides_the_address_and_depends_on_salt_address_and_browser() {
        let hasher = VisitorHasher::new(b"a salt of at least sixteen bytes");
        let id = hasher.visitor("203.0.113.7", UA).to_hex();
        assert_eq!(id.len(), 64);
        assert!(id.bytes().all(|b| HEX.contains(&b)), "{id}");
        for piece in ["203.0.113.7", "3230332e302e3131332e37", "wxwork"] {
            assert!(!id.contains(piece), "{piece} in {id}");
        }
        assert_eq!(hasher.visitor("203.0.113.7", UA).to_hex(), id, "stable");
        assert_ne!(hasher.visitor("203.0.113.8", UA).to_hex(), id);
        assert_ne!(hasher.visitor("203.0.113.7", "curl/8").to_hex(), id);
        // The separator keeps "a" + "\nb" and "a\n" + "b" from being the same input by accident.
        assert_ne!(
            hasher.visitor("1.2.3.4", "5 UA").to_hex(),
            hasher.visitor("1.2.3.45", " UA").to_hex()
        );
        let other = VisitorHasher::new(b"another salt, another id space");
        assert_ne!(other.visitor("203.0.113.7", UA).to_hex(), id);
    }

    #[test]
    fn generated_salts_are_64_hex_characters_and_differ() {
        let (a, b) = (generate_salt().unwrap(), generate_salt().unwrap());
        assert_eq!(a.len(), 64);
        assert!(a.bytes().all(|c| HEX.contains(&c)));
        assert_ne!(a, b);
    }
}
