//! The callback crypto WeCom (WXBizMsgCrypt) and DingTalk (DingCallbackCrypto) share: the SHA1
//! signature over token, timestamp, nonce and ciphertext, and AES-256-CBC with the fixed IV and a
//! frame of random | length | message | receive id, padded PKCS#7-style to 32-byte blocks. Each
//! platform's SDK wraps it with its own envelope and reply.
//!
//! Decoding is strict about what WeCom never sends (non-canonical base64, a signature that is not
//! 40 lowercase hex digits, padding that is not 1..=32 copies of its own length) and lenient only
//! where the protocol requires it: the EncodingAESKey's trailing bits.

use aes::cipher::{BlockModeDecrypt, BlockModeEncrypt, KeyIvInit, block_padding::NoPadding};
use base64::{
    Engine, alphabet,
    engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig, general_purpose::STANDARD},
};
use sha1::{Digest, Sha1};
use subtle::ConstantTimeEq;

type Encryptor = cbc::Encryptor<aes::Aes256>;
type Decryptor = cbc::Decryptor<aes::Aes256>;

/// Length of an EncodingAESKey.
pub const ENCODING_AES_KEY_LEN: usize = 43;
/// The frame is padded to a multiple of this (not AES's 16).
const PAD_BLOCK: usize = 32;
/// Random prefix, then the big-endian message length.
const PREFIX_LEN: usize = 16;
const HEADER_LEN: usize = PREFIX_LEN + 4;

/// Decodes the EncodingAESKey: 43 characters carry 2 bits more than the 32-byte key, and most
/// real keys have them set, which a strict decoder rejects (wecom.md §1.2).
const KEY_ENGINE: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Why a callback could not be opened. `code()` gives the WXBizMsgCrypt library code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    #[error("EncodingAESKey must be 43 characters of [A-Za-z0-9] decoding to 32 bytes")]
    InvalidKey,
    #[error("msg_signature does not match")]
    BadSignature,
    #[error("ciphertext is not canonical standard base64")]
    Base64,
    #[error("ciphertext length {0} is not a positive multiple of 16")]
    CiphertextLength(usize),
    #[error("padding is invalid")]
    BadPadding,
    #[error("decrypted frame is truncated or its length field exceeds it")]
    BadFrame,
    #[error("receive id does not match the configured one")]
    ReceiveIdMismatch,
    #[error("decrypted message is not UTF-8")]
    NotUtf8,
}

impl CryptoError {
    /// The WXBizMsgCrypt sample library's error code for this failure (wecom.md §1.10).
    pub fn code(&self) -> i32 {
        match self {
            Self::BadSignature => -40001,
            Self::InvalidKey => -40004,
            Self::ReceiveIdMismatch => -40005,
            Self::CiphertextLength(_) | Self::BadPadding => -40007,
            Self::BadFrame | Self::NotUtf8 => -40008,
            Self::Base64 => -40010,
        }
    }
}

/// The three values of a signed callback's query string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedQuery<'a> {
    pub msg_signature: &'a str,
    pub timestamp: &'a str,
    pub nonce: &'a str,
}

/// One callback configuration: Token, EncodingAESKey and the expected receive id (the corp id
/// for a self-built app). `Debug` shows only the receive id.
#[derive(Clone)]
pub struct CallbackCrypto {
    token: String,
    key: [u8; 32],
    receive_id: String,
}

impl std::fmt::Debug for CallbackCrypto {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallbackCrypto")
            .field("receive_id", &self.receive_id)
            .finish_non_exhaustive()
    }
}

impl CallbackCrypto {
    /// Validates and decodes the EncodingAESKey.
    pub fn new(token: &str, encoding_aes_key: &str, receive_id: &str) -> Result<Self, CryptoError> {
        if encoding_aes_key.len() != ENCODING_AES_KEY_LEN
            || !encoding_aes_key.bytes().all(|b| b.is_ascii_alphanumeric())
        {
            return Err(CryptoError::InvalidKey);
        }
        let decoded = KEY_ENGINE
            .decode(encoding_aes_key)
            .map_err(|_| CryptoError::InvalidKey)?;
        let key: [u8; 32] = decoded.try_into().map_err(|_| CryptoError::InvalidKey)?;
        Ok(Self {
            token: token.to_string(),
            key,
            receive_id: receive_id.to_string(),
        })
    }

    pub fn receive_id(&self) -> &str {
        &self.receive_id
    }

    /// `lowercase_hex(SHA1(concat(sort([token, timestamp, nonce, encrypted]))))`.
    pub fn signature(&self, timestamp: &str, nonce: &str, encrypted: &str) -> String {
        let mut parts = [self.token.as_str(), timestamp, nonce, encrypted];
        parts.sort_unstable();
        let mut sha = Sha1::new();
        for part in parts {
            sha.update(part.as_bytes());
        }
        hex_lower(&sha.finalize())
    }

    /// Checks `msg_signature` in constant time. Anything but the exact 40 lowercase hex digits
    /// fails.
    pub fn verify(&self, query: &SignedQuery<'_>, encrypted: &str) -> Result<(), CryptoError> {
        let expected = self.signature(query.timestamp, query.nonce, encrypted);
        if bool::from(expected.as_bytes().ct_eq(query.msg_signature.as_bytes())) {
            Ok(())
        } else {
            Err(CryptoError::BadSignature)
        }
    }

    /// Verifies the signature, then decrypts: the whole inbound path for a GET `echostr` or a
    /// POST `Encrypt`.
    pub fn open(&self, query: &SignedQuery<'_>, encrypted: &str) -> Result<String, CryptoError> {
        self.verify(query, encrypted)?;
        self.decrypt(encrypted)
    }

    /// Decrypts a base64 ciphertext, checks the frame and the receive id, returns the message.
    pub fn decrypt(&self, encrypted: &str) -> Result<String, CryptoError> {
        let mut buf = STANDARD
            .decode(encrypted)
            .map_err(|_| CryptoError::Base64)?;
        if buf.is_empty() || buf.len() % 16 != 0 {
            return Err(CryptoError::CiphertextLength(buf.len()));
        }
        let len = Decryptor::new(&self.key.into(), &self.iv().into())
            .decrypt_padded::<NoPadding>(&mut buf)
            .map_err(|_| CryptoError::CiphertextLength(encrypted.len()))?
            .len();
        buf.truncate(len);
        self.open_frame_owned(buf)
    }

    /// The checks after decryption, on the plaintext frame: padding, length field, receive id
    /// and UTF-8. Public so that fuzzers and tests can reach them without a cipher in the way.
    pub fn open_frame(&self, plain: &[u8]) -> Result<String, CryptoError> {
        self.open_frame_owned(plain.to_vec())
    }

    /// [`Self::open_frame`] on a buffer it may reuse for the message, saving a copy.
    fn open_frame_owned(&self, mut plain: Vec<u8>) -> Result<String, CryptoError> {
        let frame = unpad(&plain)?;
        if frame.len() < HEADER_LEN {
            return Err(CryptoError::BadFrame);
        }
        let len_bytes: [u8; 4] = frame[PREFIX_LEN..HEADER_LEN]
            .try_into()
            .map_err(|_| CryptoError::BadFrame)?;
        let msg_len = u32::from_be_bytes(len_bytes) as usize;
        let rest = &frame[HEADER_LEN..];
        if msg_len > rest.len() {
            return Err(CryptoError::BadFrame);
        }
        if &rest[msg_len..] != self.receive_id.as_bytes() {
            return Err(CryptoError::ReceiveIdMismatch);
        }
        plain.truncate(HEADER_LEN + msg_len);
        plain.drain(..HEADER_LEN);
        String::from_utf8(plain).map_err(|_| CryptoError::NotUtf8)
    }

    /// Encrypts `msg` with a fresh random prefix.
    pub fn encrypt(&self, msg: &[u8]) -> String {
        let mut random = [0u8; PREFIX_LEN];
        fastrand::fill(&mut random);
        self.encrypt_with_prefix(random, msg)
    }

    /// Encrypts `msg` with the given 16-byte prefix (deterministic; for test vectors).
    pub fn encrypt_with_prefix(&self, prefix: [u8; PREFIX_LEN], msg: &[u8]) -> String {
        let mut frame =
            Vec::with_capacity(HEADER_LEN + msg.len() + self.receive_id.len() + PAD_BLOCK);
        frame.extend_from_slice(&prefix);
        frame.extend_from_slice(&(msg.len() as u32).to_be_bytes());
        frame.extend_from_slice(msg);
        frame.extend_from_slice(self.receive_id.as_bytes());
        let pad = PAD_BLOCK - frame.len() % PAD_BLOCK;
        frame.resize(frame.len() + pad, pad as u8);
        let len = frame.len();
        let cipher = Encryptor::new(&self.key.into(), &self.iv().into())
            .encrypt_padded::<NoPadding>(&mut frame, len)
            .expect("a frame padded to 32 bytes is whole AES blocks");
        STANDARD.encode(cipher)
    }

    /// The IV is the first 16 bytes of the key (wecom.md §1.2).
    fn iv(&self) -> [u8; 16] {
        let mut iv = [0u8; 16];
        iv.copy_from_slice(&self.key[..16]);
        iv
    }
}

/// Strips the 32-byte-block padding: the last byte `p` must be 1..=32 and the last `p` bytes
/// must all equal `p`. WeCom always pads so; anything else is tampering or corruption.
fn unpad(frame: &[u8]) -> Result<&[u8], CryptoError> {
    let p = *frame.last().ok_or(CryptoError::BadPadding)? as usize;
    if p == 0 || p > PAD_BLOCK || p > frame.len() {
        return Err(CryptoError::BadPadding);
    }
    let (body, pad) = frame.split_at(frame.len() - p);
    if pad.iter().any(|&b| b as usize != p) {
        return Err(CryptoError::BadPadding);
    }
    Ok(body)
}

fn hex_lower(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[(b >> 4) as usize] as char);
        out.push(DIGITS[(b & 0xf) as usize] as char);
    }
    out
}

#[cfg(test)]
mod tests;
