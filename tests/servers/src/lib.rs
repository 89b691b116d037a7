//! Real database servers for the data-tier tests, benchmarks and example: Debian's
//! `postgresql` and `redis-server`, each started on a free loopback port in a directory of
//! its own under the system's temporary directory, with a password, and stopped on drop.
//!
//! A server that is not installed is installed with `apt-get` when the process runs as root
//! (as `.ci/run` does on a fresh machine); otherwise starting it fails with the command that
//! installs it.

use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The password of both servers: the tests check it appears in no output.
pub const PASSWORD: &str = "pw-7c1d3e9a";

/// The Debian packages, in the one command that installs both.
pub const INSTALL_COMMAND: &str = "apt-get install postgresql redis-server";

/// Why a server could not be started.
#[derive(Debug)]
pub struct StartError(String);

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StartError {}

fn fail(message: impl Into<String>) -> StartError {
    StartError(message.into())
}

/// A free loopback port (free when chosen).
pub fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .unwrap_or(0)
}

/// A PostgreSQL server: `initdb` in a temporary directory (user `otel`, password
/// [`PASSWORD`], scram-sha-256), then `pg_ctl start` on a free port of 127.0.0.1.
#[derive(Debug)]
pub struct Postgres {
    pub port: u16,
    dir: PathBuf,
    bin: PathBuf,
    run_as: Option<&'static str>,
}

impl Postgres {
    /// Starts a server, installing PostgreSQL first where it is missing and this is root.
    pub fn start() -> Result<Postgres, StartError> {
        Self::start_with(true)
    }

    /// Starts a server if PostgreSQL is installed; otherwise the error names the command
    /// that installs it.
    pub fn start_if_installed() -> Result<Postgres, StartError> {
        Self::start_with(false)
    }

    fn start_with(may_install: bool) -> Result<Postgres, StartError> {
        let bin = postgres_bin().or_else(|error| {
            if !may_install {
                return Err(error);
            }
            install_package("postgresql")?;
            postgres_bin()
        })?;
        let run_as = is_root().then_some("postgres");
        if run_as.is_some() && !user_exists("postgres") {
            return Err(fail(
                "PostgreSQL refuses to run as root and there is no `postgres` user to run it as: \
                 install Debian's package (`apt-get install postgresql`), which creates it",
            ));
        }
        let mut last = String::new();
        for _ in 0..5 {
            let port = free_port();
            let dir =
                std::env::temp_dir().join(format!("otel-postgres-{}-{port}", std::process::id()));
            let server = Postgres {
                port,
                dir,
                bin: bin.clone(),
                run_as,
            };
            match server.init_and_start() {
                Ok(()) => {
                    server.stop_after_exit();
                    return Ok(server);
                }
                Err(error) => last = error.0,
            }
        }
        Err(fail(format!("PostgreSQL did not start: {last}")))
    }

    /// The connection URL, password included.
    pub fn url(&self) -> String {
        format!(
            "postgres://otel:{PASSWORD}@127.0.0.1:{}/postgres",
            self.port
        )
    }

    fn init_and_start(&self) -> Result<(), StartError> {
        let _ = std::fs::remove_dir_all(&self.dir);
        std::fs::create_dir_all(&self.dir)
            .map_err(|e| fail(format!("{}: {e}", self.dir.display())))?;
        let password_file = self.dir.join("password");
        std::fs::write(&password_file, PASSWORD).map_err(|e| fail(e.to_string()))?;
        if let Some(user) = self.run_as {
            run(Command::new("chown").args(["-R", user]).arg(&self.dir))?;
        }
        let data = self.dir.join("data");
        run(self
            .command("initdb")
            .arg("-D")
            .arg(&data)
            .args([
                "-U",
                "otel",
                "--auth=scram-sha-256",
                "-E",
                "UTF8",
                "--no-locale",
                "--no-sync",
            ])
            .arg(format!("--pwfile={}", password_file.display())))?;
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c max_connections=50",
            self.port,
            self.dir.display()
        );
        run(self
            .command("pg_ctl")
            .arg("-D")
            .arg(&data)
            .args(["-w", "-t", "30", "-o", &options, "-l"])
            .arg(self.dir.join("server.log"))
            .arg("start"))
        .map_err(|error| {
            let log = std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default();
            fail(format!("{error}\n{log}"))
        })?;
        wait_for_port(self.port, Duration::from_secs(10))
    }

    /// Stops the server and removes its directory once this process has ended, should the
    /// server never be dropped (tests keep theirs in a `static`).
    fn stop_after_exit(&self) {
        let run_as = self
            .run_as
            .map(|user| format!("runuser -u {user} -- "))
            .unwrap_or_default();
        clean_up_after_exit(&format!(
            "{run_as}'{bin}/pg_ctl' -D '{dir}/data' -m immediate stop; rm -rf '{dir}'",
            bin = self.bin.display(),
            dir = self.dir.display()
        ));
    }

    fn command(&self, program: &str) -> Command {
        let program = self.bin.join(program);
        match self.run_as {
            Some(user) => {
                let mut command = Command::new("runuser");
                command.args(["-u", user, "--"]).arg(program);
                command
            }
            None => Command::new(program),
        }
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = self
            .command("pg_ctl")
            .arg("-D")
            .arg(self.dir.join("data"))
            .args(["-m", "immediate", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A Redis server on a free port of 127.0.0.1, with password [`PASSWORD`], saving nothing.
#[derive(Debug)]
pub struct Redis {
    pub port: u16,
    child: Child,
}

impl Redis {
    /// Starts a server, installing Redis first where it is missing and this is root.
    pub fn start() -> Result<Redis, StartError> {
        Self::start_with(true)
    }

    /// Starts a server if Redis is installed; otherwise the error names the command that
    /// installs it.
    pub fn start_if_installed() -> Result<Redis, StartError> {
        Self::start_with(false)
    }

    fn start_with(may_install: bool) -> Result<Redis, StartError> {
        let binary = find_in_path("redis-server").or_else(|error| {
            if !may_install {
                return Err(error);
            }
            install_package("redis-server")?;
            find_in_path("redis-server")
        })?;
        let mut last = String::new();
        for _ in 0..5 {
            let port = free_port();
            let mut child = Command::new(&binary)
                .args([
                    "--port",
                    &port.to_string(),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                ])
                .args(["--requirepass", PASSWORD, "--daemonize", "no", "--dir"])
                .arg(std::env::temp_dir())
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .map_err(|e| fail(format!("could not start redis-server: {e}")))?;
            match wait_for_port(port, Duration::from_secs(10)) {
                Ok(()) => {
                    clean_up_after_exit(&format!(
                        "redis-cli -p {port} -a '{PASSWORD}' --no-auth-warning shutdown nosave"
                    ));
                    return Ok(Redis { port, child });
                }
                Err(error) => {
                    let _ = child.kill();
                    last = error.0;
                }
            }
        }
        Err(fail(format!("redis-server did not start: {last}")))
    }

    /// The connection URL, password included, database 0.
    pub fn url(&self) -> String {
        format!("redis://:{PASSWORD}@127.0.0.1:{}/0", self.port)
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs the shell command `cleanup` once this process has ended, however it ends: a server
/// kept in a `static` is never dropped, and a server left running would outlive the tests.
fn clean_up_after_exit(cleanup: &str) {
    let script = format!(
        "while kill -0 {pid} 2>/dev/null; do sleep 1; done; {cleanup}",
        pid = std::process::id()
    );
    let _ = Command::new("sh")
        .arg("-c")
        .arg(script)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
}

fn wait_for_port(port: u16, timeout: Duration) -> Result<(), StartError> {
    let deadline = Instant::now() + timeout;
    while TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_err() {
        if Instant::now() > deadline {
            return Err(fail(format!(
                "nothing listens on 127.0.0.1:{port} after {timeout:?}"
            )));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(())
}

fn run(command: &mut Command) -> Result<(), StartError> {
    let output = command
        .stdin(Stdio::null())
        .output()
        .map_err(|e| fail(format!("{command:?}: {e}")))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(fail(format!(
            "{command:?} failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )))
    }
}

/// The directory of `initdb`, `pg_ctl` and `postgres`: on the `PATH`, else Debian's
/// `/usr/lib/postgresql/<version>/bin` (the newest).
fn postgres_bin() -> Result<PathBuf, StartError> {
    if let Ok(initdb) = find_in_path("initdb") {
        let resolved = std::fs::canonicalize(&initdb).unwrap_or(initdb);
        if let Some(dir) = resolved.parent()
            && dir.join("pg_ctl").is_file()
        {
            return Ok(dir.to_owned());
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").is_file().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions
        .pop()
        .map(|(_, bin)| bin)
        .ok_or_else(|| not_installed("PostgreSQL (initdb)", "postgresql"))
}

fn find_in_path(name: &str) -> Result<PathBuf, StartError> {
    std::env::var_os("PATH")
        .and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join(name))
                .find(|path| path.is_file())
        })
        .ok_or_else(|| {
            not_installed(
                name,
                if name == "redis-server" {
                    "redis-server"
                } else {
                    name
                },
            )
        })
}

fn not_installed(what: &str, package: &str) -> StartError {
    let both = if INSTALL_COMMAND.contains(package) {
        format!(" (`{INSTALL_COMMAND}` installs both servers)")
    } else {
        String::new()
    };
    fail(format!(
        "{what} is not installed: `apt-get install {package}` installs it{both}"
    ))
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|output| String::from_utf8_lossy(&output.stdout).trim() == "0")
}

fn user_exists(user: &str) -> bool {
    Command::new("id")
        .arg(user)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// The path of `name`, a program of Debian's `package`, installing the package first when the
/// program is not on the `PATH` (as the servers are): Prometheus and `promtool` for the
/// Prometheus tests.
pub fn installed_program(name: &str, package: &str) -> Result<PathBuf, StartError> {
    find_in_path(name).or_else(|_| {
        install_package(package)?;
        find_in_path(name)
    })
}

/// `apt-get install package` as root (refreshing the package lists when the first try
/// fails); as another user, the error naming the command. One install at a time in this
/// process; another process's is waited for (apt's lock, up to two minutes). For what the
/// tests need beside a program on the `PATH` (Python's `venv` module for the collector).
pub fn install_package(package: &str) -> Result<(), StartError> {
    static INSTALLING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one_at_a_time = INSTALLING
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if !is_root() || !Path::new("/usr/bin/apt-get").is_file() {
        return Err(not_installed(package, package));
    }
    eprintln!("otel-local-servers: installing Debian's `{package}` (apt-get install {package})");
    let apt = |args: &[&str]| {
        run(Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive"))
    };
    let install_args = [
        "-o",
        "DPkg::Lock::Timeout=120",
        "install",
        "-y",
        "--no-install-recommends",
        package,
    ];
    apt(&install_args).or_else(|_| {
        apt(&["update"])?;
        apt(&install_args)
    })
}
