//! `hello1400`: answers `hello world` to any HTTP request on port 1400 (or `PORT`).
//!
//! The standard library cannot catch SIGTERM, so as PID 1 in a container the process would
//! ignore `docker stop` for its 10 s grace period: run it with `init: true` (compose) or
//! `docker run --init`, whose init process forwards the signal and lets the default action
//! end the process.

use std::process::ExitCode;

fn main() -> ExitCode {
    let port = match hello1400::port_from_env() {
        Ok(port) => port,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(2);
        }
    };
    let listener = match std::net::TcpListener::bind(("0.0.0.0", port)) {
        Ok(listener) => listener,
        Err(err) => {
            eprintln!("error: cannot listen on 0.0.0.0:{port}: {err}");
            return ExitCode::from(1);
        }
    };
    eprintln!("hello1400 listening on 0.0.0.0:{port}");
    match hello1400::serve(listener, hello1400::WORKERS) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::from(1)
        }
    }
}
