//! The DingTalk push decode step: body JSON, signature, AES-256-CBC decrypt and frame checks,
//! and the event reader with its dedupe key, for a ~1 KB approval event.
//! Run with `cargo bench --bench dingtalk_decode`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use salesbot_dingtalk::{
    callback::{CallbackCrypto, SignedQuery, parse_body},
    event::DingEvent,
};

fn event() -> String {
    let remark = "同意，请按合同条款执行。".repeat(20);
    let json = serde_json::json!({
        "EventType": "bpms_task_change", "EventTime": 1717000000000i64, "CorpId": "dingxxxxxxxx",
        "eventId": "5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b", "processInstanceId": "a1b2c3d4-0000-1111-2222-333344445555",
        "processCode": "PROC-00000000-AAAA-BBBB-CCCC-000000000000", "type": "finish", "result": "agree",
        "staffId": "mgr001", "taskId": 811165, "title": "Discount approval for ACME Trading Co., Ltd.",
        "remark": remark, "createTime": 1716990000000i64, "finishTime": 1717000000000i64
    })
    .to_string();
    assert!((900..1200).contains(&json.len()), "{}", json.len());
    json
}

fn decode(c: &mut Criterion) {
    let crypto = CallbackCrypto::new(
        "mryue",
        "Yue0EfdN5900c1ce5cf6A152c63DDe1808a60c5ecd7",
        "ding6ccabc44d2c8d38b",
    )
    .unwrap();
    let encrypt = crypto.encrypt(event().as_bytes());
    let signature = crypto.signature("1717000000000", "Ab3dE6gH", &encrypt);
    let body = serde_json::json!({ "encrypt": encrypt }).to_string();
    let query = SignedQuery {
        msg_signature: &signature,
        timestamp: "1717000000000",
        nonce: "Ab3dE6gH",
    };

    let mut group = c.benchmark_group("dingtalk_push_1kb");
    group.throughput(Throughput::Elements(1));
    group.bench_function("verify_decrypt_parse", |b| {
        b.iter(|| {
            let encrypt = parse_body(std::hint::black_box(body.as_bytes())).unwrap();
            let json = crypto.open(&query, &encrypt).unwrap();
            let event = DingEvent::parse(&json).unwrap();
            (event.dedupe_key(), event)
        })
    });
    group.finish();
}

criterion_group!(benches, decode);
criterion_main!(benches);
