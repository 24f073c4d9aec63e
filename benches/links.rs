//! The work a tracked-link redirect does besides HTTP: classify the User-Agent, hash the
//! visitor, find the link in the cache, and push the click into the buffer. Run with
//! `cargo bench --bench links`; the whole redirect over HTTP is measured by
//! `examples/link_redirect_load.rs`.

use std::{hint::black_box, sync::Arc};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use salesbot::{
    domain::link::{Click, Link, VisitorHasher, classify},
    links::{LinkCache, clicks},
    metrics::Metrics,
};

const UA: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 \
    (KHTML, like Gecko) Mobile/15E148 wxwork/4.1.16 MicroMessenger/7.0.1 Language/zh \
    ColorScheme/Light";
/// Links in the cache while looking one up: the default capacity's worth.
const CACHED: usize = 100_000;

fn link(n: usize) -> Link {
    Link {
        id: n as i64,
        code: format!("c{n:09}"),
        tenant: "acme".into(),
        target_url: "https://example.com/expo?from=chat".into(),
        campaign: "expo".into(),
        chat_id: Some("wrOgQhDgAAMYQiS5ol9G7gK9JVAAAA".into()),
        rep: Some("alice".into()),
        identify: false,
        enabled: true,
        created_at: 0,
    }
}

fn redirect_hot_path(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let _guard = rt.enter();
    let hasher = VisitorHasher::new(b"a benchmark salt of 32 characters");
    let cache = LinkCache::new(CACHED);
    for n in 0..CACHED {
        cache.put(link(n));
    }
    let code = "c000054321";
    let (buffer, mut rx) = clicks::buffer(1024, Arc::new(Metrics::new()));

    let mut group = c.benchmark_group("link_redirect");
    group.throughput(Throughput::Elements(1));
    group.bench_function("classify", |b| b.iter(|| classify(black_box(UA))));
    group.bench_function("visitor_hash", |b| {
        b.iter(|| hasher.visitor(black_box("203.0.113.7"), black_box(UA)))
    });
    group.bench_function("cache_lookup", |b| {
        b.iter(|| cache.get(black_box(code)).unwrap().link)
    });
    group.bench_function("buffer_push_and_take", |b| {
        let link = cache.get(code).unwrap().link;
        let visitor = hasher.visitor("203.0.113.7", UA);
        b.iter(|| {
            buffer.push(Click {
                link: link.clone(),
                at: 1,
                agent: salesbot::domain::link::AgentClass::Wecom,
                visitor,
                who: Default::default(),
            });
            rx.try_recv().unwrap()
        })
    });
    group.bench_function("all_four", |b| {
        b.iter(|| {
            let agent = classify(black_box(UA));
            let visitor = hasher.visitor(black_box("203.0.113.7"), black_box(UA));
            let link = cache.get(black_box(code)).unwrap().link;
            buffer.push(Click {
                link,
                at: 1,
                agent,
                visitor,
                who: Default::default(),
            });
            rx.try_recv().unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, redirect_hot_path);
criterion_main!(benches);
