//! The public test vectors of wecom.md §1.11, round trips, every malformed input, and
//! properties over random keys and messages.

use super::*;
use proptest::prelude::*;

const A_TOKEN: &str = "hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo";
const A_KEY: &str = "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt";
const A_CORP: &str = "ww1436e0e65a779aee";
const A2_ENCRYPT: &str = "Kl7kjoSf6DMD1zh7rtrHjFaDapSCkaOnwu3bqLc5tAybhhMl9pFeK8NslNPVdMwmBQTNoW4mY7AIjeLvEl3NyeTkAgGzBhzTtRLNshw2AEew+kkYcD+Fq72Kt00fT0WnN87hGrW8SqGc+NcT3mu87Ha3dz1pSDi6GaUA6A0sqfde0VJPQbZ9U+3JWcoD4Z5jaU0y9GSh010wsHF8KZD24YhmZH4ch4Ka7ilEbjbfvhKkNL65HHL0J6EYJIZUC2pFrdkJ7MhmEbU2qARR4iQHE7wy24qy0cRX3Mfp6iELcDNfSsPGjUQVDGxQDCWjayJOpcwocugux082f49HKYg84EpHSGXAyh+/oxwaWbvL6aSDPOYuPDGOCI8jmnKiypE+";
const B_ENCRYPT: &str = "RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3QczcdCUpj911L3vg3W/sYYvuJTs3TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs8qLjvd4Xgpue06DOdnLxAUHzM6+kDZ+HMZfJYuR+LtwGc2hgf5gsijff0ekUNXZiqATP7PF5mZxZ3Izoun1s4zG4LUMnvw2r+KqCKIw+3IQH03v+BCA9nMELNqbSf6tiWSrXJB3LAVGUcallcrw8V2t9EL4EhzJWrQUax5wLVMNS0+rUPA3k22Ncx4XXZS9o0MBH27Bo6BpNelZpS+/uh9KsNlY6bHCmJU9p8g7m3fVKn28H3KDYA5Pl/T8Z1ptDAVe0lXdQ2YoyyH2uyPIGHBZZIs2pDBS8R07+qN+E7Q==";

fn a() -> CallbackCrypto {
    CallbackCrypto::new(A_TOKEN, A_KEY, A_CORP).unwrap()
}

fn q<'a>(msg_signature: &'a str, timestamp: &'a str, nonce: &'a str) -> SignedQuery<'a> {
    SignedQuery {
        msg_signature,
        timestamp,
        nonce,
    }
}

#[test]
fn keys_with_nonzero_trailing_bits_decode_to_the_documented_aes_key() {
    assert_eq!(
        hex_lower(&a().key),
        "eaa91d32babaf274ca76ece72583b5037ed6da8120a64314be4b6d453a2a854b"
    );
    assert_eq!(hex_lower(&a().iv()), "eaa91d32babaf274ca76ece72583b503");
    let b = CallbackCrypto::new(
        "QDG6eK",
        "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C",
        "wx5823bf96d3bd56c7",
    )
    .unwrap();
    assert_eq!(
        hex_lower(&b.key),
        "8d69989bbaabe67328014c194631ad0719b3dca035b64023df292447aab60760"
    );
}

#[test]
fn invalid_keys_are_rejected() {
    for key in [
        "",
        "short",
        &A_KEY[..42],
        &format!("{A_KEY}A"),
        "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhU+",
        "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhU=",
    ] {
        assert_eq!(
            CallbackCrypto::new("t", key, "c").unwrap_err(),
            CryptoError::InvalidKey,
            "{key}"
        );
    }
}

#[test]
fn vector_a1_url_verification() {
    let echostr =
        "fsi1xnbH4yQh0+PJxcOdhhK6TDXkjMyhEPA7xB2TGz6b+g7xyAbEkRxN/3cNXW9qdqjnoVzEtpbhnFyq6SVHyA==";
    let query = q(
        "012bc692d0a58dd4b10f8dfe5c4ac00ae211ebeb",
        "1476416373",
        "47744683",
    );
    assert_eq!(a().open(&query, echostr).unwrap(), "1288432023552776189");
}

#[test]
fn vector_a2_message_with_pad_22() {
    let query = q(
        "0c3914025cb4b4d68103f6bfc8db550f79dcf48e",
        "1476422779",
        "1597212914",
    );
    let msg = a().open(&query, A2_ENCRYPT).unwrap();
    assert_eq!(msg.len(), 228);
    assert_eq!(
        msg,
        "<xml><ToUserName>ww1436e0e65a779aee</ToUserName><FromUserName>ChenJiaShun</FromUserName><CreateTime>1476422779</CreateTime><MsgType>text</MsgType><Content>你好</Content><MsgId>1456453720</MsgId><AgentID>1000002</AgentID></xml>"
    );
}

#[test]
fn vector_b_legacy_sample_with_pad_30() {
    let b = CallbackCrypto::new(
        "QDG6eK",
        "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C",
        "wx5823bf96d3bd56c7",
    )
    .unwrap();
    let echostr =
        "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ==";
    let verify = q(
        "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3",
        "1409659589",
        "263014780",
    );
    assert_eq!(b.open(&verify, echostr).unwrap(), "1616140317555161061");
    let msg = b
        .open(
            &q(
                "477715d11cdb4164915debcba66cb864d751f3e6",
                "1409659813",
                "1372623149",
            ),
            B_ENCRYPT,
        )
        .unwrap();
    assert_eq!(msg.len(), 284);
    assert!(
        msg.contains("<MsgId>4561255354251345929</MsgId>") && msg.contains("<![CDATA[hello]]>")
    );
}

#[test]
fn vector_c_deterministic_encryption_and_reply_signature() {
    let c = CallbackCrypto::new(
        "123456",
        "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR",
        "wx49f0ab532d5d035a",
    )
    .unwrap();
    let reply = "<xml>\n<MsgType><![CDATA[text]]></MsgType>\n<Content><![CDATA[test]]></Content>\n<FromUserName><![CDATA[wx49f0ab532d5d035a]]></FromUserName>\n<ToUserName><![CDATA[messense]]></ToUserName>\n<AgentID>1</AgentID>\n<CreateTime>1411525903</CreateTime>\n</xml>";
    assert_eq!(reply.len(), 247);
    let encrypted = c.encrypt_with_prefix(*b"1234567890123456", reply.as_bytes());
    assert_eq!(
        encrypted,
        "9s4gMv99m88kKTh/H8IdkOiMg6bisoy3ypwy9H4hvSPe9nsGaqyw5hhSjdYbcrKk+j3nba4HMOTzHrluLBYqxgNcBqGsL8GqxlhZgURnAtObvesEl5nZ+uBE8bviY0LWke8Zy9V/QYKxNV2FqllNXcfmstttyIkMKCCmVbCFM2JTF5wY0nFhHZSjPUL2Q1qvSUCUld+/WIXrx0oyKQmpB6o8NRrrNrsDf03oxI1p9FxUgMnwKKZeOA/uu+2IEvEBtb7muXsVbwbgX05UPPJvFurDXafG0RQyPR+mf1nDnAtQmmNOuiR5MIkdQ39xn1vWwi1O5oazPoQJz0nTYjxxEE8kv3kFxtAGVRe3ypD3WeK2XeFYFMNMpatF9XiKzHo3"
    );
    assert_eq!(
        c.signature("1411525903", "461056294", &encrypted),
        "407518b7649e86ef23978113f92d27afa9296533"
    );
    let echostr =
        "4ByGGj+sVCYcvGeQYhaKIk1o0pQRNbRjxybjTGblXrBaXlTXeOo1+bXFXDQQb1o6co6Yh9Bv41n7hOchLF6p+Q==";
    assert_eq!(
        c.open(
            &q(
                "dd6b9c95b495b3f7e2901bfbc76c664930ffdb96",
                "1411443780",
                "437374425"
            ),
            echostr
        )
        .unwrap(),
        "5927782489442352469"
    );
}

#[test]
fn signature_must_be_exactly_the_lowercase_hex_digest() {
    let good = "0c3914025cb4b4d68103f6bfc8db550f79dcf48e";
    for bad in [
        good.to_uppercase(),
        good[..39].to_string(),
        format!("{good}0"),
        String::new(),
        "0c3914025cb4b4d68103f6bfc8db550f79dcf48f".into(),
    ] {
        assert_eq!(
            a().open(&q(&bad, "1476422779", "1597212914"), A2_ENCRYPT)
                .unwrap_err(),
            CryptoError::BadSignature,
            "{bad}"
        );
    }
    // Timestamp and nonce are covered by the signature too.
    assert_eq!(
        a().open(&q(good, "1476422780", "1597212914"), A2_ENCRYPT)
            .unwrap_err(),
        CryptoError::BadSignature
    );
}

#[test]
fn tampered_ciphertext_fails_to_decrypt_cleanly() {
    // Flip one bit in every position of a real ciphertext: never a panic, never the original.
    let bytes = STANDARD.decode(A2_ENCRYPT).unwrap();
    for i in 0..bytes.len() {
        let mut tampered = bytes.clone();
        tampered[i] ^= 0x01;
        let result = a().decrypt(&STANDARD.encode(&tampered));
        assert!(result.as_deref() != Ok(""), "{i}");
        if let Ok(msg) = result {
            // CBC: a flip in block k garbles block k and flips one bit of block k+1, so a flip
            // in the random prefix's block can still decrypt to a valid frame.
            assert!(i < 32, "byte {i} tampered yet decrypted to {msg:?}");
        }
    }
}

#[test]
fn base64_that_wecom_never_sends_is_rejected() {
    let url_safe = A2_ENCRYPT.replace('+', "-").replace('/', "_");
    let unpadded = STANDARD
        .encode(b"x".repeat(32))
        .trim_end_matches('=')
        .to_string();
    let wrapped = format!("{}\n{}", &A2_ENCRYPT[..76], &A2_ENCRYPT[76..]);
    let spaced = format!(" {A2_ENCRYPT}");
    for bad in [
        url_safe.as_str(),
        unpadded.as_str(),
        wrapped.as_str(),
        spaced.as_str(),
        "!!!!",
        "QQ=",
        "QUFB=",
    ] {
        assert_eq!(
            a().decrypt(bad).unwrap_err(),
            CryptoError::Base64,
            "{bad:?}"
        );
    }
}

#[test]
fn ciphertext_must_be_whole_blocks() {
    assert_eq!(
        a().decrypt("").unwrap_err(),
        CryptoError::CiphertextLength(0)
    );
    assert_eq!(
        a().decrypt(&STANDARD.encode([0u8; 17])).unwrap_err(),
        CryptoError::CiphertextLength(17)
    );
}

/// Encrypts an arbitrary frame (already padded or not) with A's key, bypassing the framing.
fn raw_encrypt(frame: &[u8]) -> String {
    let c = a();
    let mut buf = frame.to_vec();
    let len = buf.len();
    let out = Encryptor::new(&c.key.into(), &c.iv().into())
        .encrypt_padded::<NoPadding>(&mut buf, len)
        .unwrap();
    STANDARD.encode(out)
}

fn frame(msg: &[u8], declared_len: u32, receive_id: &[u8]) -> Vec<u8> {
    let mut f = b"0123456789abcdef".to_vec();
    f.extend_from_slice(&declared_len.to_be_bytes());
    f.extend_from_slice(msg);
    f.extend_from_slice(receive_id);
    f
}

fn pad_with(mut f: Vec<u8>, byte: u8, count: usize) -> Vec<u8> {
    f.extend(std::iter::repeat_n(byte, count));
    f
}

#[test]
fn bad_padding_is_rejected() {
    let body = frame(b"<xml/>", 6, A_CORP.as_bytes()); // 44 bytes
    let need = 64 - body.len(); // 20
    // Zero, over 32, and inconsistent pad bytes.
    assert_eq!(
        a().decrypt(&raw_encrypt(&pad_with(body.clone(), 0, need)))
            .unwrap_err(),
        CryptoError::BadPadding
    );
    assert_eq!(
        a().decrypt(&raw_encrypt(&pad_with(body.clone(), 33, need)))
            .unwrap_err(),
        CryptoError::BadPadding
    );
    let mut inconsistent = pad_with(body.clone(), need as u8, need);
    inconsistent[50] = 7;
    assert_eq!(
        a().decrypt(&raw_encrypt(&inconsistent)).unwrap_err(),
        CryptoError::BadPadding
    );
    // Pad of 64 over a 64-byte buffer is more than a 32-byte block.
    assert_eq!(
        a().decrypt(&raw_encrypt(&[64u8; 64])).unwrap_err(),
        CryptoError::BadPadding
    );
    // A correct pad opens.
    assert_eq!(
        a().decrypt(&raw_encrypt(&pad_with(body, need as u8, need)))
            .unwrap(),
        "<xml/>"
    );
}

#[test]
fn length_field_beyond_the_buffer_is_rejected() {
    let body = frame(b"<xml/>", 6_000, A_CORP.as_bytes());
    let need = 64 - body.len();
    assert_eq!(
        a().decrypt(&raw_encrypt(&pad_with(body, need as u8, need)))
            .unwrap_err(),
        CryptoError::BadFrame
    );
    // Shorter than the 20-byte header after unpadding.
    assert_eq!(
        a().decrypt(&raw_encrypt(&pad_with(b"0123456789".to_vec(), 22, 22)))
            .unwrap_err(),
        CryptoError::BadFrame
    );
}

#[test]
fn wrong_receive_id_is_rejected() {
    let other = CallbackCrypto::new(A_TOKEN, A_KEY, "wwsomeoneelse").unwrap();
    assert_eq!(
        other.decrypt(A2_ENCRYPT).unwrap_err(),
        CryptoError::ReceiveIdMismatch
    );
    // An empty receive id (individual third-party apps) matches only an empty one.
    let empty = CallbackCrypto::new(A_TOKEN, A_KEY, "").unwrap();
    assert_eq!(
        empty.decrypt(A2_ENCRYPT).unwrap_err(),
        CryptoError::ReceiveIdMismatch
    );
    assert_eq!(empty.decrypt(&empty.encrypt(b"hi")).unwrap(), "hi");
}

#[test]
fn non_utf8_plaintext_is_rejected() {
    let body = frame(&[0xff, 0xfe, 0x00], 3, A_CORP.as_bytes());
    let need = 64 - body.len();
    assert_eq!(
        a().decrypt(&raw_encrypt(&pad_with(body, need as u8, need)))
            .unwrap_err(),
        CryptoError::NotUtf8
    );
}

#[test]
fn error_codes_mirror_the_sample_library() {
    assert_eq!(CryptoError::BadSignature.code(), -40001);
    assert_eq!(CryptoError::InvalidKey.code(), -40004);
    assert_eq!(CryptoError::ReceiveIdMismatch.code(), -40005);
    assert_eq!(CryptoError::BadFrame.code(), -40008);
    assert_eq!(CryptoError::Base64.code(), -40010);
}

#[test]
fn debug_output_never_shows_token_or_key() {
    let text = format!("{:?}", a());
    assert!(!text.contains(A_TOKEN) && !text.contains("key"), "{text}");
    assert!(text.contains(A_CORP));
}

fn encoding_aes_key() -> impl Strategy<Value = String> {
    proptest::string::string_regex("[A-Za-z0-9]{43}").unwrap()
}

proptest! {
    #[test]
    fn any_message_round_trips_under_any_key(key in encoding_aes_key(), msg in ".{0,600}", corp in "[a-z0-9]{0,24}") {
        let c = CallbackCrypto::new("token", &key, &corp).unwrap();
        let encrypted = c.encrypt(msg.as_bytes());
        let bytes = STANDARD.decode(&encrypted).unwrap();
        prop_assert_eq!(bytes.len() % PAD_BLOCK, 0);
        let signature = c.signature("1700000000", "42", &encrypted);
        prop_assert_eq!(c.open(&q(&signature, "1700000000", "42"), &encrypted).unwrap(), msg);
    }

    #[test]
    fn arbitrary_ciphertext_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = a().decrypt(&STANDARD.encode(&bytes));
        let _ = a().decrypt(&String::from_utf8_lossy(&bytes));
    }
}

/// DingTalk's callback crypto is the same scheme: the published vectors of dingtalk.md §2.10.
mod dingtalk_vectors {
    use super::*;

    fn open(
        token: &str,
        key: &str,
        receive_id: &str,
        ts: &str,
        nonce: &str,
        sig: &str,
        encrypt: &str,
    ) -> String {
        CallbackCrypto::new(token, key, receive_id)
            .unwrap()
            .open(&q(sig, ts, nonce), encrypt)
            .unwrap()
    }

    const A_KEY: &str = "4g5j64qlyl3zvetqxz5jiocdr586fn2zvjpa8zls3ij";
    const A_MSG: &str = r#"{"EventType":"check_create_suite_url","Random":"LPIdSnlF","TestSuiteKey":"suite4xxxxxxxxxxxxxxx"}"#;

    #[test]
    fn vector_a_inbound_event_with_pad_22() {
        let msg = open(
            "123456",
            A_KEY,
            "suite4xxxxxxxxxxxxxxx",
            "1445827045067",
            "nEXhMP4r",
            "5a65ceeef9aab2d149439f82dc191dd6c5cbe2c0",
            "1a3NBxmCFwkCJvfoQ7WhJHB+iX3qHPsc9JbaDznE1i03peOk1LaOQoRz3+nlyGNhwmwJ3vDMG+OzrHMeiZI7gTRWVdUBmfxjZ8Ej23JVYa9VrYeJ5as7XM/ZpulX8NEQis44w53h1qAgnC3PRzM7Zc/D6Ibr0rgUathB6zRHP8PYrfgnNOS9PhSBdHlegK+AGGanfwjXuQ9+0pZcy0w9lQ==",
        );
        assert_eq!(msg, A_MSG);
    }

    #[test]
    fn vector_b_check_url_with_pad_31() {
        let msg = open(
            "mryue",
            "Yue0EfdN5900c1ce5cf6A152c63DDe1808a60c5ecd7",
            "ding6ccabc44d2c8d38b",
            "1608001896814",
            "WL4PK6yA",
            "03044561471240d4a14bb09372dfcfd4fd0e40cb",
            "0vJiX6vliEpwG3U45CtXqi+m8PXbQRARJ8p8BbDuD1EMTDf0jKpQ79QS93qEk7XHpP6u+oTTrd15NRPvNvmBKyDCYxxOK+HZeKju4yhELOFchzNukR+t8SB/qk4ROMu3",
        );
        assert_eq!(msg, r#"{"EventType":"check_url"}"#);
    }

    #[test]
    fn vectors_c_and_d_success_replies() {
        let c = open(
            "123456",
            "1234567890123456789012345678901234567890123",
            "dingsnotzck6pm5veliw",
            "1614767836",
            "A7Co0cJLMzIDtMMI",
            "9a95a004dd16f5c307e849b994173f76aa26e5eb",
            "YvkvaGe4hQxd3VxRmEty0dVlnCOAqwf56xwTRHDHoOURqhalbmBJQk5FNcRk42Gl5T0YQXZNwpwWSm1xAFJ5ZA==",
        );
        assert_eq!(c, "success");
        let d = open(
            "tokenxxxx",
            "o1w0aum42yaptlz8alnhwikjd3jenzt9cb9wmzptgus",
            "dingxxxxxx",
            "1605695694141",
            "WelUQl6bCqcBa2fM",
            "f36f4ba5337d426c7d4bca0dbcb06b3ddc1388fc",
            "X1VSe9cTJUMZu60d3kyLYTrBq5578ZRJtteU94wG0Q4Uk6E/wQYeJRIC0/UFW5Wkya1Ihz9oXAdLlyC9TRaqsQ==",
        );
        assert_eq!(d, "success");
    }

    #[test]
    fn vector_e_deterministic_encryption_pins_the_32_byte_padding() {
        let c = CallbackCrypto::new("123456", A_KEY, "suite4xxxxxxxxxxxxxxx").unwrap();
        let encrypted = c.encrypt_with_prefix(*b"1234567890123456", A_MSG.as_bytes());
        assert_eq!(
            encrypted,
            "5DJFWzjRNOQk+5GSZxW+VrFMDWCIidPjEjg3//gm5x556BedVi62rDj1F9uXU97a4jw1R4FACUv9RCpoDobNqxhxRB2YtW901k4KHbP1/wpFJ3xdLG0n0A8U1VhENg80zKJd+YROR0YMGum4WYuoXJ6J98vt0ihYeIFoapNddLML5MyNAGM9saSpkouDMSvD+iU14i7V8ix1ia1Tb9ogog=="
        );
        assert_eq!(
            c.signature("1445827045067", "nEXhMP4r", &encrypted),
            "bcf6dcefa4ce2dbaf7b0666c7264d46fd9aad4bd"
        );
    }
}
