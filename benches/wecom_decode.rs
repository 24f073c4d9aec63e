//! The WeCom callback decode step every POST pays before the inbox insert: envelope parse,
//! signature check, AES-256-CBC decrypt, frame checks and typed-event parse of a ~1 KB
//! add_external_contact callback. Run with `cargo bench --bench wecom_decode`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use salesbot_wecom::{
    crypto::{CallbackCrypto, SignedQuery},
    envelope,
    event::Callback,
};

const TOKEN: &str = "hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo";
const KEY: &str = "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt";
const CORP: &str = "ww1436e0e65a779aee";

/// An add_external_contact callback padded with a realistic-length state and codes to ~1 KB.
fn plaintext() -> String {
    let state = "expo2026-shanghai-booth-a12-".repeat(12);
    let code = "WELCOME_CODE_".repeat(12);
    let xml = format!(
        "<xml><ToUserName><![CDATA[{CORP}]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName>\
         <CreateTime>1717200000</CreateTime><MsgType><![CDATA[event]]></MsgType>\
         <Event><![CDATA[change_external_contact]]></Event><ChangeType><![CDATA[add_external_contact]]></ChangeType>\
         <UserID><![CDATA[alice.zhang]]></UserID><ExternalUserID><![CDATA[wmEXAMPLEcustomer000000000001]]></ExternalUserID>\
         <State><![CDATA[{state}]]></State><WelcomeCode><![CDATA[{code}]]></WelcomeCode></xml>"
    );
    assert!((900..1200).contains(&xml.len()), "{}", xml.len());
    xml
}

fn decode(c: &mut Criterion) {
    let crypto = CallbackCrypto::new(TOKEN, KEY, CORP).unwrap();
    let encrypt = crypto.encrypt(plaintext().as_bytes());
    let signature = crypto.signature("1717200000", "1234567", &encrypt);
    let body = format!(
        "<xml><ToUserName><![CDATA[{CORP}]]></ToUserName><AgentID><![CDATA[1000002]]></AgentID><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
    );
    let query = SignedQuery {
        msg_signature: &signature,
        timestamp: "1717200000",
        nonce: "1234567",
    };

    let mut group = c.benchmark_group("wecom_callback_1kb");
    group.throughput(Throughput::Elements(1));
    group.bench_function("verify_decrypt_parse", |b| {
        b.iter(|| {
            let env = envelope::parse(std::hint::black_box(&body)).unwrap();
            let xml = crypto.open(&query, &env.encrypt).unwrap();
            Callback::parse(&xml).unwrap()
        })
    });
    group.bench_function("verify_decrypt_only", |b| {
        b.iter(|| crypto.open(&query, std::hint::black_box(&encrypt)).unwrap())
    });
    let xml = plaintext();
    group.bench_function("envelope_only", |b| {
        b.iter(|| envelope::parse(std::hint::black_box(&body)).unwrap())
    });
    group.bench_function("event_parse_only", |b| {
        b.iter(|| Callback::parse(std::hint::black_box(&xml)).unwrap())
    });
    group.finish();
}

criterion_group!(benches, decode);
criterion_main!(benches);
