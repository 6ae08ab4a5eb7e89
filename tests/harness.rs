//! A temp working directory and a way to run `zcrm` in it with a clean environment.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A scratch folder the binary runs in (its `.zcrm/` lands here).
pub struct Workdir {
    dir: tempfile::TempDir,
    env: Vec<(String, String)>,
}

impl Workdir {
    /// A fresh folder.
    pub fn new() -> Self {
        Self { dir: tempfile::tempdir().unwrap(), env: Vec::new() }
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Sets an environment variable for every later run.
    pub fn env(&mut self, k: &str, v: &str) -> &mut Self {
        self.env.push((k.to_owned(), v.to_owned()));
        self
    }

    /// `zcrm args...` in the folder, with no `ZCRM_*` variable but those set here.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(bin());
        cmd.current_dir(self.path()).args(args);
        for (k, _) in std::env::vars() {
            if k.starts_with("ZCRM_") {
                cmd.env_remove(k);
            }
        }
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd
    }

    /// Runs `zcrm args...` and returns its output.
    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    /// Starts `zcrm args...` with its output discarded.
    pub fn spawn(&self, args: &[&str]) -> Child {
        self.command(args).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap()
    }

    /// Runs `zcrm args...` and kills it with SIGKILL (no chance to clean up) after `delay`
    /// unless it ended before; returns whether the kill hit a live process.
    pub fn run_killed_after(&self, args: &[&str], delay: Duration) -> bool {
        let mut child = self.spawn(args);
        let start = Instant::now();
        while start.elapsed() < delay {
            if child.try_wait().unwrap().is_some() {
                return false;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        kill(&mut child)
    }

    /// Runs and requires exit code `code`; returns stdout.
    pub fn expect(&self, args: &[&str], code: i32) -> String {
        let out = self.run(args);
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(
            out.status.code(),
            Some(code),
            "zcrm {args:?}\nstdout:\n{stdout}\nstderr:\n{stderr}"
        );
        stdout + &stderr
    }
}

/// The binary under test: the one cargo built, or `ZCRM_E2E_BIN` (a copy, so that a long soak
/// keeps testing one build while the tree is rebuilt).
pub fn bin() -> PathBuf {
    std::env::var_os("ZCRM_E2E_BIN")
        .map_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_zcrm")), PathBuf::from)
}

/// SIGKILLs `child` and reaps it; whether it was still running.
pub fn kill(child: &mut Child) -> bool {
    let alive = child.try_wait().unwrap().is_none();
    let _ = child.kill();
    let _ = child.wait();
    alive
}
