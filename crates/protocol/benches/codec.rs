//! Codec throughput: encoding 100-row Leads payloads, decoding 200-row getRecords pages
//! (25 fields, realistic values), and the floor: quick-xml's bare event reader over the same
//! page bytes. Inputs come from a deterministic generator (no files).

// A benchmark's inputs are generated here, so a failure is a bug in the bench itself.
#![allow(clippy::expect_used, clippy::panic)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use zcrm_protocol::response::records::{OutField, encode_records_page};
use zcrm_protocol::{RecordsPage, XmlDataBuilder};

/// splitmix64: a tiny deterministic generator.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[(self.next() % xs.len() as u64) as usize]
    }
}

const FIRST: [&str; 8] = ["Ann", "Bob", "Chloé", "Dmitri", "Eve", "Farah", "Günter", "Hiro"];
const LAST: [&str; 8] =
    ["Smith", "O'Brien", "Nguyen", "Müller", "García", "Kowalski", "Dupont", "Tanaka"];
const COMPANY: [&str; 6] = [
    "Acme & Sons",
    "Globex",
    "Initech <EU>",
    "Umbrella Ltd",
    "Stark Industries",
    "Wayne Enterprises",
];
const SOURCE: [&str; 5] = ["Advertisement", "Cold Call", "Web Download", "Partner", "Trade Show"];
const STATUS: [&str; 4] = ["Contacted", "Not Contacted", "Attempted to Contact", "Junk Lead"];
const INDUSTRY: [&str; 5] = ["Technology", "Finance", "Retail", "Manufacturing", "Healthcare"];

/// One Leads record: 25 (label, value, bare) fields.
fn lead(rng: &mut Rng, i: u64) -> Vec<(&'static str, String, bool)> {
    let first = rng.pick(&FIRST);
    let last = rng.pick(&LAST);
    let company = rng.pick(&COMPANY);
    vec![
        ("LEADID", (900_000_000_000_000 + i).to_string(), true),
        ("SMOWNERID", "900000000000002".into(), true),
        ("Lead Owner", "Ann Owner".into(), false),
        ("Company", company.into(), false),
        ("First Name", first.into(), false),
        ("Last Name", last.into(), false),
        ("Designation", "Head of Operations".into(), false),
        ("Email", format!("{}.{}{}@example.com", first.to_lowercase(), i, rng.next() % 100), false),
        ("Phone", format!("+1 415 555 {:04}", rng.next() % 10_000), false),
        ("Mobile", format!("+1 650 555 {:04}", rng.next() % 10_000), false),
        ("Website", format!("https://www.example{}.com", rng.next() % 1000), false),
        ("Lead Source", rng.pick(&SOURCE).into(), false),
        ("Lead Status", rng.pick(&STATUS).into(), false),
        ("Industry", rng.pick(&INDUSTRY).into(), false),
        ("No of Employees", (rng.next() % 5000).to_string(), false),
        ("Annual Revenue", format!("{}.{:02}", rng.next() % 10_000_000, rng.next() % 100), false),
        ("SMCREATORID", "900000000000002".into(), true),
        ("Created By", "Ann Owner".into(), false),
        (
            "Created Time",
            format!(
                "2024-0{}-1{} 0{}:1{}:2{}",
                1 + rng.next() % 9,
                rng.next() % 10,
                rng.next() % 10,
                rng.next() % 10,
                rng.next() % 10
            ),
            false,
        ),
        (
            "Modified Time",
            format!(
                "2024-1{}-1{} 1{}:3{}:4{}",
                rng.next() % 3,
                rng.next() % 10,
                rng.next() % 10,
                rng.next() % 10,
                rng.next() % 10
            ),
            false,
        ),
        ("Street", format!("{} Market Street", rng.next() % 2000), false),
        ("City", "San Francisco".into(), false),
        ("Zip Code", format!("{:05}", rng.next() % 100_000), false),
        (
            "Description",
            format!(
                "Met at the {} booth; asked about pricing & volume discounts.",
                rng.pick(&SOURCE)
            ),
            false,
        ),
        (
            "Email Opt Out",
            if rng.next().is_multiple_of(2) { "false".into() } else { "true".into() },
            false,
        ),
    ]
}

fn leads(n: u64, seed: u64) -> Vec<Vec<(&'static str, String, bool)>> {
    let mut rng = Rng(seed);
    (0..n).map(|i| lead(&mut rng, i)).collect()
}

fn page_bytes() -> String {
    let rows = leads(200, 7);
    let out: Vec<Vec<OutField<'_>>> = rows
        .iter()
        .map(|r| r.iter().map(|(l, v, bare)| OutField::text(l, Some(v), *bare)).collect())
        .collect();
    encode_records_page("/crm/private/xml/Leads/getRecords", "Leads", &out)
        .expect("generated page encodes")
}

fn encode_payload(rows: &[Vec<(&'static str, String, bool)>]) -> String {
    let mut b = XmlDataBuilder::new("Leads", 100);
    for r in rows {
        // Inserts never carry the system fields.
        b.push_row(r.iter().filter(|(_, _, bare)| !bare).map(|(l, v, _)| (*l, v.as_str())))
            .expect("row encodes");
    }
    b.finish().expect("payload")
}

fn bench_encode(c: &mut Criterion) {
    let rows = leads(100, 11);
    let bytes = encode_payload(&rows).len() as u64;
    let mut g = c.benchmark_group("encode_xmldata_100_leads");
    g.throughput(Throughput::Bytes(bytes));
    g.bench_function("XmlDataBuilder", |b| b.iter(|| black_box(encode_payload(black_box(&rows)))));
    g.finish();
}

fn bench_decode(c: &mut Criterion) {
    let page = page_bytes();
    let mut g = c.benchmark_group("decode_getrecords_200_leads");
    g.throughput(Throughput::Bytes(page.len() as u64));
    g.bench_function("floor_quick_xml_events", |b| {
        b.iter(|| {
            let mut r = quick_xml::Reader::from_reader(black_box(page.as_bytes()));
            let mut n = 0usize;
            loop {
                match r.read_event() {
                    Ok(quick_xml::events::Event::Eof) => break,
                    Ok(_) => n += 1,
                    Err(e) => panic!("{e}"),
                }
            }
            black_box(n)
        })
    });
    g.bench_function("RecordsPage::decode", |b| {
        b.iter(|| {
            let p = RecordsPage::decode(black_box(page.as_bytes())).expect("decodes");
            black_box(p.len())
        })
    });
    g.finish();
}

criterion_group!(benches, bench_encode, bench_decode);
criterion_main!(benches);
