//! The chaos soak: the real binary runs a three-step pipeline — insert Accounts; upsert
//! Contacts (matched on `Legacy Id`) whose `ACCOUNTID` is a lookup into the first step; update
//! Accounts matched on `Legacy Id` — while zcrm is SIGKILLed and the emulator is stopped and
//! restarted on the same data at random moments, with injected faults (latency, HTTP 500s,
//! answers dropped after the commit, bodies cut short). After the kills it reruns until the
//! run ends (exit 0 or 1; exit 3 may come in between while faults are on) and checks that every
//! valid source row is in the CRM exactly once, every source row in exactly one of its step's
//! success and reject files, every lookup pointing at the right account and every update
//! applied.
//!
//! Rounds of up to [`KILLS_PER_ROUND`] kill attempts, each on a fresh emulator and work folder.
//! `ZCRM_CHAOS_ITERATIONS=N` sets the kill attempts (default [`CI_ITERATIONS`]: a short
//! fixed-seed run), `ZCRM_CHAOS_SEED=S` the seed. The schedule and the data follow the seed;
//! where a kill lands in the work follows the machine's speed.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use zcrm_emulator::{Emulator, EmulatorConfig, EmulatorHandle, FaultCounts, FaultSpec};

use crate::crm::{TOKEN, legacy_id_field, records, report};
use crate::harness::{Workdir, kill};

/// Kill attempts of the CI run.
const CI_ITERATIONS: u64 = 16;
/// The CI run's seed.
const CI_SEED: u64 = 0x5eed_c4a0_5001;
/// The most kill attempts of one round (one emulator, one data set); a round also ends at the
/// first run that finishes before its kill, so that kills land in work, not in no-op reruns.
const KILLS_PER_ROUND: u64 = 12;
/// Reruns allowed to finish a round after its kills (faults still on).
const MAX_FINISHING_RUNS: u32 = 40;

/// splitmix64: the soak's schedule and data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut x = self.0;
        x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        x ^ (x >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn chance(&mut self, p: f64) -> bool {
        ((self.next() >> 11) as f64 / (1u64 << 53) as f64) < p
    }

    fn millis(&mut self, from: u64, to: u64) -> Duration {
        Duration::from_millis(from + self.below(to - from + 1))
    }
}

/// What the soak did, over every round.
#[derive(Debug, Default)]
struct Totals {
    rounds: u64,
    runs: u64,
    kills: u64,
    restarts: u64,
    exit3: u64,
    faults: FaultCounts,
    calls: u64,
    rows: u64,
    valid: u64,
    lost: u64,
    duplicated: u64,
    /// Valid rows that ended in a reject file.
    wrongly_rejected: u64,
}

/// One round's source data and what the CRM must hold after it.
struct Data {
    accounts: usize,
    contacts: usize,
    seeded: BTreeSet<usize>,
    /// Account index → whether its row is valid.
    bad_account: Vec<bool>,
    /// Contact index → the account index it points at.
    contact_account: Vec<usize>,
    /// Contact index → whether its last name is missing.
    contact_unnamed: Vec<bool>,
    /// Update rows: the account index they target (`None`: an id that was never imported).
    updates: Vec<Option<usize>>,
}

impl Data {
    fn new(rng: &mut Rng) -> Self {
        // Enough work that most kills land in it (a round's kills take about six seconds).
        let accounts = 500 + rng.below(300) as usize;
        let contacts = 1000 + rng.below(500) as usize;
        let bad_account = (0..accounts).map(|_| rng.chance(0.05)).collect();
        // A few contacts point past the last account (no such key): rejected by the lookup.
        let contact_account =
            (0..contacts).map(|_| rng.below(accounts as u64 + 4) as usize).collect();
        let seeded: BTreeSet<usize> = (0..contacts).filter(|_| rng.chance(0.2)).collect();
        let contact_unnamed =
            (0..contacts).map(|i| !seeded.contains(&i) && rng.chance(0.03)).collect();
        let mut updates: Vec<Option<usize>> =
            (0..accounts).filter(|_| rng.chance(0.4)).map(Some).collect();
        for _ in 0..3 {
            let at = rng.below(updates.len() as u64 + 1) as usize;
            updates.insert(at, None);
        }
        Self { accounts, contacts, seeded, bad_account, contact_account, contact_unnamed, updates }
    }

    fn account_ok(&self, a: usize) -> bool {
        a < self.accounts && !self.bad_account[a]
    }

    fn contact_ok(&self, c: usize) -> bool {
        self.account_ok(self.contact_account[c]) && !self.contact_unnamed[c]
    }

    fn update_ok(&self, u: Option<usize>) -> bool {
        u.is_some_and(|a| self.account_ok(a))
    }

    /// Whether row `i` (0-based) of `step`'s source is valid.
    fn row_ok(&self, step: &str, i: usize) -> bool {
        match step {
            "accounts" => self.account_ok(i),
            "contacts" => self.contact_ok(i),
            _ => self.update_ok(self.updates[i]),
        }
    }

    fn rows(&self) -> usize {
        self.accounts + self.contacts + self.updates.len()
    }

    fn valid(&self) -> usize {
        (0..self.accounts).filter(|a| self.account_ok(*a)).count()
            + (0..self.contacts).filter(|c| self.contact_ok(*c)).count()
            + self.updates.iter().filter(|u| self.update_ok(**u)).count()
    }

    fn write(&self, dir: &Path) {
        let mut a = String::from("id,name,phone\n");
        for i in 0..self.accounts {
            let name = if self.bad_account[i] { String::new() } else { format!("Account {i}") };
            a.push_str(&format!("A{i},{name},{}\n", old_phone(i)));
        }
        std::fs::write(dir.join("accounts.csv"), a).unwrap();
        let mut c = String::from("id,last,title,account\n");
        let mut s = String::from("id,last,title\n");
        for i in 0..self.contacts {
            let last = if self.contact_unnamed[i] { String::new() } else { format!("Person {i}") };
            c.push_str(&format!("C{i},{last},{},A{}\n", new_title(i), self.contact_account[i]));
            if self.seeded.contains(&i) {
                s.push_str(&format!("C{i},Seed {i},Old title {i}\n"));
            }
        }
        std::fs::write(dir.join("contacts.csv"), c).unwrap();
        std::fs::write(dir.join("seed.csv"), s).unwrap();
        let mut u = String::from("id,phone\n");
        for (k, t) in self.updates.iter().enumerate() {
            match t {
                Some(i) => u.push_str(&format!("A{i},{}\n", new_phone(*i))),
                None => u.push_str(&format!("A-none-{k},{}\n", new_phone(k))),
            }
        }
        std::fs::write(dir.join("updates.csv"), u).unwrap();
    }
}

fn old_phone(i: usize) -> String {
    format!("41555{i:05}")
}

fn new_phone(i: usize) -> String {
    format!("65055{i:05}")
}

fn new_title(i: usize) -> String {
    format!("Title {i}")
}

const STEPS: &str = r#"
[[steps]]
name = "accounts"
import = "Accounts"
source = "accounts.csv"
key = "id"

[steps.map]
"Account Name" = "name"
"Phone" = "phone"
"Legacy Id" = "id"

[[steps]]
name = "contacts"
import = "Contacts"
source = "contacts.csv"
mode = "upsert"
match_on = "Legacy Id"
key = "id"

[steps.map]
"Last Name" = "last"
"Title" = "title"
"Legacy Id" = "id"
"ACCOUNTID" = { lookup = "accounts", column = "account" }

[[steps]]
name = "updates"
import = "Accounts"
source = "updates.csv"
mode = "update"
match_on = "Legacy Id"
key = "id"

[steps.map]
"Phone" = "phone"
"Legacy Id" = "id"
"#;

const SEED_STEP: &str = r#"
[[steps]]
name = "seed"
import = "Contacts"
source = "seed.csv"
key = "id"

[steps.map]
"Last Name" = "last"
"Title" = "title"
"Legacy Id" = "id"
"#;

/// Writes `name` with the connection to `url` and `steps`.
fn pipeline(w: &Workdir, name: &str, url: &str, steps: &str) -> PathBuf {
    let text = format!(
        "[connection]\nurl = \"{url}\"\nauthtoken_env = \"ZCRM_TEST_TOKEN\"\nedition = \"enterprise\"\n\
         daily_budget = 10000000\nwrite_batch = 20\n{steps}"
    );
    let path = w.path().join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// The round's emulator: stopped and started again on the same data and, when it can be had
/// again, the same port (else a new one, and the pipeline is rewritten to point at it).
struct Server {
    cfg: EmulatorConfig,
    handle: Option<EmulatorHandle>,
    faults: FaultSpec,
    injected: FaultCounts,
    restarts: u64,
}

impl Server {
    fn start(cfg: EmulatorConfig) -> Self {
        let handle = Emulator::start(cfg.clone()).unwrap();
        let cfg = EmulatorConfig { listen: handle.addr(), ..cfg };
        Self {
            cfg,
            handle: Some(handle),
            faults: FaultSpec::default(),
            injected: FaultCounts::default(),
            restarts: 0,
        }
    }

    fn emu(&self) -> &EmulatorHandle {
        self.handle.as_ref().unwrap()
    }

    fn set_faults(&mut self, spec: FaultSpec) {
        self.faults = spec;
        self.emu().set_faults(spec);
    }

    fn stop(&mut self) {
        if let Some(h) = self.handle.take() {
            self.injected += h.faults_injected();
            h.stop();
        }
    }

    /// Starts it again; returns whether the URL changed.
    fn restart(&mut self, reseed: u64) -> bool {
        self.stop();
        self.restarts += 1;
        self.faults.seed = reseed;
        let cfg = EmulatorConfig { faults: self.faults, ..self.cfg.clone() };
        let handle = match Emulator::start(cfg.clone()) {
            Ok(h) => h,
            // The port was taken meanwhile: any free one.
            Err(_) => Emulator::start(EmulatorConfig {
                listen: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
                ..cfg
            })
            .unwrap(),
        };
        let moved = handle.addr() != self.cfg.listen;
        self.cfg.listen = handle.addr();
        self.handle = Some(handle);
        moved
    }

    fn counts(&self) -> FaultCounts {
        let mut c = self.injected;
        if let Some(h) = &self.handle {
            c += h.faults_injected();
        }
        c
    }
}

/// One round: seed contacts, kill and restart (at most `kills` attempts), finish, check.
/// Returns the kill attempts made and the round's problems (none when the CRM and the reports
/// are exact).
fn round(t: &mut Totals, seed: u64, kills: u64) -> (u64, Vec<String>) {
    let mut rng = Rng(seed);
    let mut w = Workdir::new();
    w.env("ZCRM_TEST_TOKEN", TOKEN);
    let data = Data::new(&mut rng);
    data.write(w.path());
    let schema = legacy_id_field("Accounts") + &legacy_id_field("Contacts");
    let cfg = crate::crm::config(w.path(), &schema, |c| EmulatorConfig {
        daily_budget: Some(10_000_000),
        ..c
    });
    let mut server = Server::start(cfg);
    let seed_p = pipeline(&w, "seed.toml", server.emu().url(), SEED_STEP);
    w.expect(&["run", seed_p.to_str().unwrap()], 0);
    pipeline(&w, "chaos.toml", server.emu().url(), STEPS);
    let args = ["run", "chaos.toml"];
    let writes_only = if rng.chance(0.25) { ",only=writes" } else { "" };
    let spec = format!(
        "latency={}ms,error_rate=0.04,drop_after_commit=0.04,truncate=0.03,seed={}{writes_only}",
        rng.below(4),
        rng.next()
    );
    server.set_faults(FaultSpec::parse(&spec).unwrap());

    let mut attempts = 0;
    for k in 0..kills {
        attempts += 1;
        let kill_at = rng.millis(20, 1500);
        // About one iteration in three stops the emulator for up to half a second.
        let outage = rng.chance(0.35).then(|| {
            let stop_at = rng.millis(0, kill_at.as_millis() as u64);
            (stop_at, stop_at + rng.millis(0, 500))
        });
        let reseed = rng.next();
        let mut child = w.spawn(&args);
        let start = Instant::now();
        let (mut stopped, mut restarted) = (false, false);
        let mut exited = None;
        loop {
            let now = start.elapsed();
            if let Some((stop_at, back_at)) = outage {
                if !stopped && now >= stop_at {
                    server.stop();
                    stopped = true;
                }
                if stopped && !restarted && now >= back_at {
                    if server.restart(reseed) {
                        pipeline(&w, "chaos.toml", server.emu().url(), STEPS);
                    }
                    restarted = true;
                }
            }
            if let Some(status) = child.try_wait().unwrap() {
                exited = status.code();
                break;
            }
            if now >= kill_at {
                break;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        t.runs += 1;
        let killed = exited.is_none() && kill(&mut child);
        if killed {
            t.kills += 1;
        }
        if stopped && !restarted && server.restart(reseed) {
            pipeline(&w, "chaos.toml", server.emu().url(), STEPS);
        }
        eprintln!(
            "chaos: seed {seed:#x} iteration {k}: {} at {kill_at:?}{}",
            if killed {
                "killed".to_owned()
            } else {
                format!("ended (exit {exited:?}) before the kill")
            },
            outage.map_or(String::new(), |(s, b)| format!(", emulator down {s:?}..{b:?}"))
        );
        if matches!(exited, Some(0 | 1)) {
            break;
        }
    }

    // Finish with the faults still on.
    let mut done = None;
    for _ in 0..MAX_FINISHING_RUNS {
        let out = w.run(&args);
        t.runs += 1;
        match out.status.code() {
            Some(c @ (0 | 1)) => {
                done = Some(c);
                break;
            }
            Some(3) => t.exit3 += 1,
            other => panic!(
                "chaos: seed {seed:#x}: a finishing run exited {other:?}\n{}",
                String::from_utf8_lossy(&out.stderr)
            ),
        }
    }
    assert!(done.is_some(), "chaos: seed {seed:#x}: not done after {MAX_FINISHING_RUNS} runs");
    t.faults += server.counts();
    server.emu().clear_faults();
    t.calls += server.emu().call_counts().iter().map(|c| c.count).sum::<u64>();
    t.restarts += server.restarts;
    t.rows += data.rows() as u64;
    t.valid += data.valid() as u64;
    (attempts, check(t, &w, server.emu(), &data))
}

/// Compares the CRM and the reports with the data; adds lost and duplicated rows to `t`.
fn check(t: &mut Totals, w: &Workdir, emu: &EmulatorHandle, data: &Data) -> Vec<String> {
    let mut problems = Vec::new();
    // Accounts: each valid row once, with the phone of the last update.
    let accounts = records(emu, "Accounts", &["ACCOUNTID", "Legacy Id", "Phone"]);
    let mut account_id: HashMap<String, String> = HashMap::new();
    let mut seen: HashMap<String, u32> = HashMap::new();
    for r in &accounts {
        let key = r.get("Legacy Id").cloned().unwrap_or_default();
        *seen.entry(key.clone()).or_insert(0) += 1;
        account_id.insert(key, r.get("ACCOUNTID").cloned().unwrap_or_default());
    }
    let updated: BTreeSet<usize> = data.updates.iter().flatten().copied().collect();
    for i in 0..data.accounts {
        let key = format!("A{i}");
        let n = seen.remove(&key).unwrap_or(0);
        match (data.account_ok(i), n) {
            (true, 0) => {
                t.lost += 1;
                problems.push(format!("account {key} lost"));
            }
            (_, n) if n > 1 => {
                t.duplicated += u64::from(n - 1);
                problems.push(format!("account {key} {n} times"));
            }
            (false, 1) => problems.push(format!("invalid account {key} imported")),
            _ => {}
        }
    }
    for (key, n) in seen {
        problems.push(format!("{n} unexpected account(s) with Legacy Id {key:?}"));
    }
    for r in &accounts {
        let Some(i) = r.get("Legacy Id").and_then(|k| k.strip_prefix('A')?.parse::<usize>().ok())
        else {
            continue;
        };
        let want = if updated.contains(&i) { new_phone(i) } else { old_phone(i) };
        if r.get("Phone") != Some(&want) {
            problems.push(format!("account A{i}: Phone {:?}, expected {want}", r.get("Phone")));
        }
    }
    // Contacts: seeded ones and valid rows once each, pointing at their account.
    let contacts = records(emu, "Contacts", &["Legacy Id", "Last Name", "Title", "ACCOUNTID"]);
    let mut seen: HashMap<String, u32> = HashMap::new();
    for r in &contacts {
        *seen.entry(r.get("Legacy Id").cloned().unwrap_or_default()).or_insert(0) += 1;
    }
    for i in 0..data.contacts {
        let key = format!("C{i}");
        let n = seen.remove(&key).unwrap_or(0);
        let expected = data.contact_ok(i) || data.seeded.contains(&i);
        match (expected, n) {
            (true, 0) => {
                t.lost += 1;
                problems.push(format!("contact {key} lost"));
            }
            (_, n) if n > 1 => {
                t.duplicated += u64::from(n - 1);
                problems.push(format!("contact {key} {n} times"));
            }
            (false, 1) => problems.push(format!("invalid contact {key} imported")),
            _ => {}
        }
    }
    for (key, n) in seen {
        problems.push(format!("{n} unexpected contact(s) with Legacy Id {key:?}"));
    }
    for r in &contacts {
        let Some(i) = r.get("Legacy Id").and_then(|k| k.strip_prefix('C')?.parse::<usize>().ok())
        else {
            continue;
        };
        let (last, title, account) = if data.contact_ok(i) {
            let a = format!("A{}", data.contact_account[i]);
            (format!("Person {i}"), new_title(i), account_id.get(&a).cloned())
        } else {
            (format!("Seed {i}"), format!("Old title {i}"), None)
        };
        let got = (r.get("Last Name"), r.get("Title"), r.get("ACCOUNTID"));
        if got != (Some(&last), Some(&title), account.as_ref()) {
            problems.push(format!("contact C{i}: {got:?}, expected {:?}", (last, title, account)));
        }
    }
    // Reports: every source row in exactly one of its step's files; rejects exactly the
    // invalid rows; the seeded contacts updated.
    let steps =
        [("accounts", data.accounts), ("contacts", data.contacts), ("updates", data.updates.len())];
    for (step, n) in steps {
        let ok = |i: usize| data.row_ok(step, i);
        let success = report(&w.path().join(format!("out/{step}.success.csv")));
        let rejects = report(&w.path().join(format!("out/{step}.rejects.csv")));
        let mut times = vec![0u32; n];
        for r in success.iter().chain(&rejects) {
            let row: usize = r["_row"].parse().unwrap();
            times[row - 1] += 1;
        }
        for (i, c) in times.iter().enumerate() {
            if *c != 1 {
                problems.push(format!("{step}: row {} in the reports {c} times", i + 1));
                if *c == 0 {
                    t.lost += 1;
                } else {
                    t.duplicated += u64::from(c - 1);
                }
            }
        }
        for r in &rejects {
            let row: usize = r["_row"].parse().unwrap();
            if ok(row - 1) {
                t.wrongly_rejected += 1;
                problems.push(format!("{step}: valid row {row} rejected: {}", r["_errors"]));
            }
        }
        for r in &success {
            let row: usize = r["_row"].parse().unwrap();
            if !ok(row - 1) {
                problems.push(format!("{step}: invalid row {row} reported a success"));
            }
            if step == "contacts" && data.seeded.contains(&(row - 1)) && r["_action"] != "updated" {
                problems.push(format!("contacts: seeded row {row} {}", r["_action"]));
            }
        }
    }
    problems
}

#[test]
fn chaos_soak_kills_and_restarts_end_exact() {
    let env = |k: &str| std::env::var(k).ok().and_then(|v| v.parse::<u64>().ok());
    let iterations = env("ZCRM_CHAOS_ITERATIONS").unwrap_or(CI_ITERATIONS);
    let seed = env("ZCRM_CHAOS_SEED").unwrap_or(CI_SEED);
    let started = Instant::now();
    let mut t = Totals::default();
    let mut left = iterations;
    let mut failures = Vec::new();
    while left > 0 {
        let round_seed = seed.wrapping_add(t.rounds);
        let (attempts, problems) = round(&mut t, round_seed, left.min(KILLS_PER_ROUND));
        if !problems.is_empty() {
            eprintln!("chaos: round {} (seed {round_seed:#x}): {problems:#?}", t.rounds);
            failures.push((round_seed, problems));
        }
        t.rounds += 1;
        left -= attempts;
    }
    let f = &t.faults;
    println!(
        "chaos soak: seed {seed:#x}, {} rounds, {} runs, {} kills (zcrm), {} emulator restarts, \
         {} faults injected ({} HTTP 500, {} dropped after commit, {} truncated; {} calls delayed), \
         {} API calls, {} exit-3 runs while finishing, {} rows ({} valid), lost {}, duplicated {}, \
         valid rows rejected {}, {:.1} s",
        t.rounds,
        t.runs,
        t.kills,
        t.restarts,
        f.failures(),
        f.errors,
        f.drops,
        f.truncations,
        f.delayed,
        t.calls,
        t.exit3,
        t.rows,
        t.valid,
        t.lost,
        t.duplicated,
        t.wrongly_rejected,
        started.elapsed().as_secs_f64()
    );
    assert!(failures.is_empty(), "chaos: {failures:#?}");
    assert_eq!((t.lost, t.duplicated), (0, 0));
}
