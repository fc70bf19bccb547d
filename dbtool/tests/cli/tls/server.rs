//! A PostgreSQL 15 of the test's own with TLS on, and the certificates it needs (made with
//! the `openssl` command). Each test starts its own server and the guard stops it; a
//! watchdog stops it too if the test process dies without unwinding (a timeout's SIGKILL).
//!
//! Also compiled into service-common's tests (`#[path]`), so it uses nothing of dbtool's
//! test support.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// The roles the server admits, each by one pg_hba.conf line.
pub mod role {
    /// `host` + trust: plain or TLS. A superuser, for the tests' own checks.
    pub const POSTGRES: &str = "postgres";
    /// `hostssl` + trust: TLS only.
    pub const TLS_ONLY: &str = "tls_only";
    /// `hostssl` + cert: a client certificate whose common name is the role.
    pub const CERT: &str = "cert_user";
    /// `hostssl` + scram-sha-256 (password [`super::SCRAM_PASSWORD`]), for channel binding.
    pub const SCRAM: &str = "scram_user";
}

pub const SCRAM_PASSWORD: &str = "scram-secret";

fn run(command: &mut Command) {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    assert!(
        output.status.success(),
        "{command:?} failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// `openssl` in `dir` with the space-separated `fixed` arguments, then `more`.
fn openssl(dir: &Path, fixed: &str, more: &[&str]) {
    run(Command::new("openssl")
        .current_dir(dir)
        .args(fixed.split_whitespace())
        .args(more));
}

/// A new P-256 key, as `openssl req` takes it.
const EC_KEY: &str = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1";

/// The form of a private key file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyForm {
    /// EC key, `BEGIN PRIVATE KEY`.
    Pkcs8,
    /// EC key, `BEGIN EC PRIVATE KEY`.
    Sec1,
    /// RSA key, `BEGIN RSA PRIVATE KEY`.
    Pkcs1,
}

/// Two certificate authorities (the test's and another one) and the certificates they sign.
pub struct Pki {
    dir: PathBuf,
}

impl Pki {
    /// Makes the test CA (`ca.crt`) and another CA (`other-ca.crt`) in `dir`.
    pub fn new(dir: &Path) -> Pki {
        std::fs::create_dir_all(dir).expect("pki dir");
        for name in ["ca", "other-ca"] {
            openssl(
                dir,
                &format!("req -x509 -new -nodes {EC_KEY} -days 2"),
                &[
                    "-subj",
                    &format!("/CN=dbtool test {name}"),
                    "-addext",
                    "basicConstraints=critical,CA:TRUE",
                    "-addext",
                    "keyUsage=critical,keyCertSign,cRLSign",
                    "-keyout",
                    &format!("{name}.key"),
                    "-out",
                    &format!("{name}.crt"),
                ],
            );
        }
        Pki {
            dir: dir.to_owned(),
        }
    }

    /// The test CA's certificate, which signs every certificate issued here.
    pub fn ca(&self) -> PathBuf {
        self.dir.join("ca.crt")
    }

    /// A CA that signed nothing the servers present.
    pub fn other_ca(&self) -> PathBuf {
        self.dir.join("other-ca.crt")
    }

    /// Issues `name.crt` and `name.key` for `common_name`, valid for `alt_names`
    /// (`DNS:localhost,IP:127.0.0.1`; empty for a client certificate).
    pub fn issue(
        &self,
        name: &str,
        common_name: &str,
        alt_names: &str,
        form: KeyForm,
    ) -> (PathBuf, PathBuf) {
        let key = format!("{name}.key");
        let newkey = match form {
            KeyForm::Pkcs8 | KeyForm::Sec1 => EC_KEY,
            KeyForm::Pkcs1 => "-newkey rsa:2048",
        };
        let csr = format!("{name}.csr");
        openssl(
            &self.dir,
            &format!("req -new -nodes {newkey}"),
            &[
                "-subj",
                &format!("/CN={common_name}"),
                "-keyout",
                &key,
                "-out",
                &csr,
            ],
        );
        let mut extensions = String::from(
            "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n\
             extendedKeyUsage=serverAuth,clientAuth\n",
        );
        if !alt_names.is_empty() {
            extensions.push_str(&format!("subjectAltName={alt_names}\n"));
        }
        let ext = format!("{name}.ext");
        std::fs::write(self.dir.join(&ext), extensions).expect("write extensions");
        let serial = format!(
            "0x{:x}",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos())
        );
        let cert = format!("{name}.crt");
        openssl(
            &self.dir,
            "x509 -req -CA ca.crt -CAkey ca.key -days 2",
            &[
                "-in",
                &csr,
                "-set_serial",
                &serial,
                "-extfile",
                &ext,
                "-out",
                &cert,
            ],
        );
        if form != KeyForm::Pkcs8 {
            // OpenSSL 3 writes PKCS#8; -traditional gives SEC1 (EC) or PKCS#1 (RSA).
            let pkcs8 = format!("{name}.pkcs8.key");
            std::fs::rename(self.dir.join(&key), self.dir.join(&pkcs8)).expect("rename key");
            openssl(
                &self.dir,
                "pkey -traditional",
                &["-in", &pkcs8, "-out", &key],
            );
        }
        let key_path = self.dir.join(&key);
        set_mode(&key_path, 0o600);
        (self.dir.join(cert), key_path)
    }
}

fn set_mode(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(mode))
        .unwrap_or_else(|e| panic!("chmod {}: {e}", path.display()));
}

fn pg_bin(tool: &str) -> PathBuf {
    Path::new(&std::env::var("PG_BIN").unwrap_or_else(|_| "/usr/lib/postgresql/15/bin".into()))
        .join(tool)
}

fn is_root() -> bool {
    std::fs::metadata("/proc/self").is_ok_and(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
}

/// initdb, pg_ctl and postgres refuse to run as root; CI runs the tests as root.
fn as_postgres(program: PathBuf) -> Command {
    if is_root() {
        let mut cmd = Command::new("runuser");
        cmd.args(["-u", "postgres", "--"]).arg(program);
        cmd
    } else {
        Command::new(program)
    }
}

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind a free port")
        .port()
}

/// Sends `signal` to `pid` once this test process is gone, however it ended: the server
/// must not outlive a test killed before its guard could run. Kill the returned child
/// after a normal stop.
pub fn watchdog(pid: u32, signal: &str) -> Child {
    let script = format!(
        "while kill -0 {me} 2>/dev/null; do sleep 1; done; kill -{signal} {pid} 2>/dev/null",
        me = std::process::id()
    );
    Command::new("sh")
        .args(["-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the watchdog")
}

/// Which certificate the server presents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerTls {
    /// `ssl = off`.
    Off,
    /// Signed by the test CA, for `localhost` and `127.0.0.1`.
    ForLocalhost,
    /// Signed by the test CA, for `db.example.invalid` only.
    ForAnotherName,
}

/// A running PostgreSQL with TLS (unless [`ServerTls::Off`]); stopped on drop.
pub struct Server {
    pub port: u16,
    pub pki: Pki,
    /// The test's own files (client certificates, migrations): `dir/client`.
    pub client_dir: PathBuf,
    data: PathBuf,
    log: PathBuf,
    watchdog: Option<Child>,
    dir: tempfile::TempDir,
}

impl Server {
    pub fn start(tls: ServerTls) -> Server {
        let dir = tempfile::tempdir().expect("temp dir");
        // The postgres user writes its data directory, socket and log here.
        set_mode(dir.path(), 0o777);
        let data = dir.path().join("data");
        let log = dir.path().join("server.log");
        run(as_postgres(pg_bin("initdb"))
            .args([
                "--no-sync",
                "-A",
                "trust",
                "-U",
                role::POSTGRES,
                "-E",
                "UTF8",
            ])
            .args(["--locale=C.UTF-8", "-D"])
            .arg(&data));
        let pki = Pki::new(&dir.path().join("pki"));
        let client_dir = dir.path().join("client");
        std::fs::create_dir(&client_dir).expect("client dir");
        let port = free_port();
        let mut conf = format!(
            "listen_addresses = '127.0.0.1'\nport = {port}\nunix_socket_directories = '{}'\n\
             fsync = off\nmax_connections = 30\n",
            dir.path().display()
        );
        let names = match tls {
            ServerTls::Off => None,
            ServerTls::ForLocalhost => Some("DNS:localhost,IP:127.0.0.1"),
            ServerTls::ForAnotherName => Some("DNS:db.example.invalid"),
        };
        if let Some(names) = names {
            let (cert, key) = pki.issue("server", "dbtool test server", names, KeyForm::Pkcs8);
            let owner = std::fs::metadata(&data).expect("data dir");
            for (from, to) in [
                (cert, "server.crt"),
                (key, "server.key"),
                (pki.ca(), "ca.crt"),
            ] {
                let target = data.join(to);
                std::fs::copy(&from, &target).expect("copy certificate");
                set_mode(&target, 0o600);
                std::os::unix::fs::chown(
                    &target,
                    Some(std::os::unix::fs::MetadataExt::uid(&owner)),
                    Some(std::os::unix::fs::MetadataExt::gid(&owner)),
                )
                .expect("chown certificate");
            }
            conf.push_str(
                "ssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n\
                 ssl_ca_file = 'ca.crt'\n",
            );
        }
        append(&data.join("postgresql.conf"), &conf);
        let hba = format!(
            "local all all trust\n\
             host all {postgres} 127.0.0.1/32 trust\n\
             hostssl all {tls_only} 127.0.0.1/32 trust\n\
             hostssl all {cert} 127.0.0.1/32 cert\n\
             hostssl all {scram} 127.0.0.1/32 scram-sha-256\n",
            postgres = role::POSTGRES,
            tls_only = role::TLS_ONLY,
            cert = role::CERT,
            scram = role::SCRAM,
        );
        std::fs::write(data.join("pg_hba.conf"), hba).expect("write pg_hba.conf");
        let mut server = Server {
            port,
            pki,
            client_dir,
            data,
            log,
            watchdog: None,
            dir,
        };
        let started = as_postgres(pg_bin("pg_ctl"))
            .args(["start", "-w", "-t", "60", "-D"])
            .arg(&server.data)
            .arg("-l")
            .arg(&server.log)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("run pg_ctl start");
        assert!(
            started.success(),
            "PostgreSQL did not start: {}",
            std::fs::read_to_string(&server.log).unwrap_or_default()
        );
        let pid = std::fs::read_to_string(server.data.join("postmaster.pid"))
            .ok()
            .and_then(|text| text.lines().next()?.trim().parse().ok())
            .expect("postmaster.pid");
        // SIGQUIT: PostgreSQL's immediate shutdown.
        server.watchdog = Some(watchdog(pid, "QUIT"));
        server.psql(&format!(
            "CREATE ROLE {tls_only} LOGIN SUPERUSER; CREATE ROLE {cert} LOGIN SUPERUSER; \
             CREATE ROLE {scram} LOGIN SUPERUSER PASSWORD '{SCRAM_PASSWORD}';",
            tls_only = role::TLS_ONLY,
            cert = role::CERT,
            scram = role::SCRAM,
        ));
        server
    }

    /// `postgres://{user}@127.0.0.1:{port}/{database}?{query}`.
    pub fn url(&self, user: &str, database: &str, query: &str) -> String {
        let mut url = format!("postgres://{user}@127.0.0.1:{}/{database}", self.port);
        if !query.is_empty() {
            url.push('?');
            url.push_str(query);
        }
        url
    }

    /// The directory of the server's Unix socket.
    pub fn socket_dir(&self) -> &Path {
        self.dir.path()
    }

    /// Runs SQL as the superuser over the Unix socket; returns psql's unaligned output.
    pub fn psql(&self, sql: &str) -> String {
        self.psql_in("postgres", sql)
    }

    pub fn psql_in(&self, database: &str, sql: &str) -> String {
        let output = Command::new(pg_bin("psql"))
            .args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h"])
            .arg(self.dir.path())
            .args([
                "-p",
                &self.port.to_string(),
                "-U",
                role::POSTGRES,
                "-d",
                database,
            ])
            .args(["-c", sql])
            .output()
            .expect("run psql");
        assert!(
            output.status.success(),
            "psql {sql:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    }
}

fn append(path: &Path, text: &str) {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
    file.write_all(text.as_bytes()).expect("append");
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = as_postgres(pg_bin("pg_ctl"))
            .args(["stop", "-m", "immediate", "-w", "-D"])
            .arg(&self.data)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        if let Some(mut watchdog) = self.watchdog.take() {
            let _ = watchdog.kill();
            let _ = watchdog.wait();
        }
    }
}
