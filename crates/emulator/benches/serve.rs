//! Emulator throughput benchmark.
//! Served throughput on loopback: 200-row getRecords pages of Leads and 100-row insertRecords
//! (version=4), one blocking client, as zcrm's client calls it.
//!
//! `cargo bench -p zcrm-emulator --bench serve`

// A benchmark aborts on any failure, like a test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use zcrm_emulator::{Emulator, EmulatorConfig};

const TOKEN: &str = "benchbenchbenchbenchbenchbench00";

fn xml_rows(n: usize, tag: &str, start: usize) -> String {
    let mut b = zcrm_protocol::XmlDataBuilder::new("Leads", 200);
    for i in start..start + n {
        let last = format!("{tag}{i:07}");
        let email = format!("{tag}{i}@example.com");
        let company = format!("Company {}", i % 97);
        b.push_row([
            ("Last Name", last.as_str()),
            ("First Name", "Bench"),
            ("Company", company.as_str()),
            ("Email", email.as_str()),
            ("Phone", "+1 555 0100"),
            ("Lead Source", "Web Form"),
            ("Lead Status", "Contacted"),
            ("City", "Austin"),
            ("No of Employees", "42"),
            ("Annual Revenue", "125000.50"),
            ("Description", "A lead created by the emulator benchmark."),
        ])
        .unwrap_or_default();
    }
    b.finish().unwrap_or_default()
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = EmulatorConfig::new(dir.path()).token(TOKEN);
    cfg.daily_budget = Some(u32::MAX);
    let emu = Emulator::start(cfg).unwrap();
    let http = reqwest::blocking::Client::builder().no_proxy().build().unwrap();
    let insert_url = format!("{}/crm/private/xml/Leads/insertRecords", emu.url());
    let read_url = format!("{}/crm/private/xml/Leads/getRecords", emu.url());
    for k in 0..10 {
        let xml = xml_rows(100, "seed", k * 100);
        let r = http
            .post(&insert_url)
            .form(&[
                ("authtoken", TOKEN),
                ("scope", "crmapi"),
                ("version", "4"),
                ("xmlData", xml.as_str()),
            ])
            .send()
            .unwrap();
        assert_eq!(r.status(), 200);
    }

    let mut g = c.benchmark_group("emulator");
    g.throughput(Throughput::Elements(1));
    let mut page = 0u32;
    g.bench_function("getRecords_200_leads", |b| {
        b.iter(|| {
            let from = (page % 5) * 200 + 1;
            page += 1;
            let (from, to) = (from.to_string(), (from + 199).to_string());
            let body = http
                .get(&read_url)
                .query(&[
                    ("authtoken", TOKEN),
                    ("scope", "crmapi"),
                    ("fromIndex", &from),
                    ("toIndex", &to),
                ])
                .send()
                .unwrap()
                .bytes()
                .unwrap();
            assert!(body.len() > 100_000);
            black_box(body);
        })
    });
    let mut n = 0usize;
    g.bench_function("insertRecords_100_leads", |b| {
        b.iter(|| {
            let xml = xml_rows(100, "ins", n);
            n += 100;
            let body = http
                .post(&insert_url)
                .form(&[
                    ("authtoken", TOKEN),
                    ("scope", "crmapi"),
                    ("version", "4"),
                    ("xmlData", xml.as_str()),
                ])
                .send()
                .unwrap()
                .bytes()
                .unwrap();
            black_box(body);
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(std::time::Duration::from_secs(8));
    targets = bench
}
criterion_main!(benches);
