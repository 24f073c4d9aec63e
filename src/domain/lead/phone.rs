//! Phone numbers as salesbot keeps them: never as given, only as a salted hash to match on and
//! a masked form (`138****5678`) for people to recognise. A leaked database then reveals no
//! number, and the salt, kept in the configuration, is what a guesser would lack.

use std::fmt;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// Fewest and most digits of a phone number: short internal extensions to the longest
/// international numbers (E.164 allows 15; forms add a few for extensions).
pub const MIN_DIGITS: usize = 6;
pub const MAX_DIGITS: usize = 20;

/// Digits shown at the start and the end of a masked number of [`FULL_MASK_DIGITS`] or more,
/// as Chinese apps show mobile numbers; shorter numbers show only their last two.
const SHOWN_HEAD: usize = 3;
const SHOWN_TAIL: usize = 4;
const FULL_MASK_DIGITS: usize = 11;
const SHORT_TAIL: usize = 2;

/// Why a phone number was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("phone must be {MIN_DIGITS} to {MAX_DIGITS} digits, optionally after a leading +")]
pub struct InvalidPhone;

/// A checked phone number: an optional `+` and 6 to 20 ASCII digits. `Debug` shows it masked,
/// so a logged value never carries the number.
#[derive(Clone, PartialEq, Eq)]
pub struct Phone(String);

impl Phone {
    /// Accepts surrounding white space, nothing else: `138 1234 5678` is refused rather than
    /// guessed at, since a number written two ways would hash to two leads.
    pub fn parse(text: &str) -> Result<Self, InvalidPhone> {
        let text = text.trim();
        let digits = text.strip_prefix('+').unwrap_or(text);
        if (MIN_DIGITS..=MAX_DIGITS).contains(&digits.len())
            && digits.bytes().all(|b| b.is_ascii_digit())
        {
            Ok(Self(text.to_owned()))
        } else {
            Err(InvalidPhone)
        }
    }

    /// The lowercase hex HMAC-SHA256 of the number under `salt`: equal numbers give equal
    /// hashes, and without the salt no number can be tried against it.
    pub fn hash(&self, salt: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(salt.as_bytes())
            .expect("HMAC accepts keys of any length");
        mac.update(self.0.as_bytes());
        mac.finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// `138****5678`: the first three and last four digits of a number of 11 digits or more,
    /// only the last two of a shorter one, a leading `+` kept.
    pub fn masked(&self) -> String {
        let (plus, digits) = match self.0.strip_prefix('+') {
            Some(digits) => ("+", digits),
            None => ("", self.0.as_str()),
        };
        let n = digits.len();
        if n >= FULL_MASK_DIGITS {
            format!(
                "{plus}{}****{}",
                &digits[..SHOWN_HEAD],
                &digits[n - SHOWN_TAIL..]
            )
        } else {
            format!("{plus}****{}", &digits[n - SHORT_TAIL..])
        }
    }
}

impl fmt::Debug for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Phone({})", self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_six_to_twenty_with_an_optional_plus_are_phones() {
        for good in ["123456", "13812345678", "+8613812345678", " 13812345678\n"] {
            assert!(Phone::parse(good).is_ok(), "{good:?}");
        }
        assert!(Phone::parse(&"1".repeat(20)).is_ok());
        for bad in [
            "",
            "12345",
            &"1".repeat(21),
            "+",
            "++13812345678",
            "138 1234 5678",
            "138-1234-5678",
            "1381234567a",
            "１３８１２３４５６７８",
            "13812345678+",
        ] {
            assert_eq!(Phone::parse(bad), Err(InvalidPhone), "{bad:?}");
        }
    }

    #[test]
    fn masks_keep_three_and_four_digits_of_long_numbers_and_two_of_short_ones() {
        let masked = |text: &str| Phone::parse(text).unwrap().masked();
        assert_eq!(masked("13812345678"), "138****5678");
        assert_eq!(masked("+8613812345678"), "+861****5678");
        assert_eq!(masked("0212345678"), "****78");
        assert_eq!(masked("123456"), "****56");
        assert_eq!(
            format!("{:?}", Phone::parse("13812345678").unwrap()),
            "Phone(138****5678)"
        );
    }

    // Vector from Python: hmac.new(b"salt-0123456789ab", b"13812345678", hashlib.sha256).hexdigest().
    #[test]
    fn the_hash_is_the_hex_hmac_of_the_number_under_the_salt() {
        let phone = Phone::parse(" 13812345678 ").unwrap();
        let hash = phone.hash("salt-0123456789ab");
        assert_eq!(
            hash,
            "5f0db22950d9ff9475b8efca90fe66934e9707d8e955e1fe5dcf02e4e8ca7189"
        );
        assert_ne!(hash, phone.hash("another-salt-0123"));
        assert_eq!(hash.len(), 64);
    }
}
