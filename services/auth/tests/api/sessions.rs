//! Only auth signs sessions: a key rotation keeps the old key's sessions; the built-in
//! development key pair is refused off loopback; `auth keygen` makes a pair the configuration
//! takes. That another service accepts what auth signs, with the public key alone, is the system
//! tests' (`services/system-tests`).
use std::collections::HashMap;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use auth::AuthConfig;
use shared::config::EnvReader;
use shared::session::SigningKey;

use crate::helpers::{cookie_pair, session_set_cookie, spawn_app_with, PASSWORD};

/// A real key pair's SESSION_KEY_ID, SESSION_SIGNING_KEY and SESSION_PUBLIC_KEYS.
fn key_vars(kid: &str, seed: u8) -> (String, String, String) {
    let key = SigningKey::from_seed(kid, [seed; 32]).expect("a valid kid");
    (key.kid().to_string(), key.to_base64(), key.verifying_keys().to_string())
}

#[tokio::test]
async fn during_a_rotation_sessions_of_the_old_key_still_work() {
    let (old_kid, old_seed, old_public) = key_vars("old", 1);
    let (new_kid, new_seed, new_public) = key_vars("new", 2);
    let both = format!("{old_public},{new_public}");
    let before = spawn_app_with(&[("SESSION_KEY_ID", &old_kid), ("SESSION_SIGNING_KEY", &old_seed), ("SESSION_PUBLIC_KEYS", &both)]).await;
    let old_cookie = cookie_pair(&session_set_cookie(&before.signup("ann@example.com", PASSWORD).await));
    let after = spawn_app_with(&[("SESSION_KEY_ID", &new_kid), ("SESSION_SIGNING_KEY", &new_seed), ("SESSION_PUBLIC_KEYS", &both)]).await;
    assert_eq!(after.current_user(Some(&old_cookie)).await["currentUser"]["email"], "ann@example.com");
    let new_cookie = cookie_pair(&session_set_cookie(&after.signup("bob@example.com", PASSWORD).await));
    assert_eq!(after.current_user(Some(&new_cookie)).await["currentUser"]["email"], "bob@example.com");
}

fn read(vars: &[(&str, &str)]) -> Result<AuthConfig, String> {
    let vars: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    AuthConfig::read(EnvReader::from_map(vars)).map_err(|error| error.to_string())
}

/// The problems about session keys in `vars` (off loopback or in production, other settings
/// may have problems of their own).
fn session_problems(vars: &[(&str, &str)]) -> Vec<String> {
    match read(vars) {
        Ok(_) => Vec::new(),
        Err(error) => error.lines().filter(|line| line.contains("SESSION_")).map(str::to_string).collect(),
    }
}

#[test]
fn the_development_key_pair_is_refused_off_loopback() {
    let error = read(&[("HOST", "0.0.0.0"), ("DATABASE_URL", "mem://")]).unwrap_err();
    assert!(error.contains("SESSION_PUBLIC_KEYS is required when HOST=0.0.0.0 is not a loopback address"), "{error}");
    assert!(error.contains("SESSION_SIGNING_KEY and SESSION_KEY_ID are required when HOST=0.0.0.0"), "{error}");
    let development = SigningKey::development();
    let (seed, public) = (development.to_base64(), development.verifying_keys().to_string());
    let error = read(&[
        ("HOST", "0.0.0.0"),
        ("DATABASE_URL", "mem://"),
        ("SESSION_KEY_ID", development.kid()),
        ("SESSION_SIGNING_KEY", &seed),
        ("SESSION_PUBLIC_KEYS", &public),
    ])
    .unwrap_err();
    assert!(error.contains("SESSION_SIGNING_KEY is the built-in development key"), "{error}");
    assert!(error.contains("SESSION_PUBLIC_KEYS holds the built-in development key"), "{error}");
    let (kid, seed, public) = key_vars("2030-01", 1);
    let real = session_problems(&[
        ("HOST", "0.0.0.0"),
        ("DATABASE_URL", "mem://"),
        ("SESSION_KEY_ID", &kid),
        ("SESSION_SIGNING_KEY", &seed),
        ("SESSION_PUBLIC_KEYS", &public),
    ]);
    assert!(real.is_empty(), "real keys may listen anywhere: {real:?}");
}

#[test]
fn the_auth_binary_exits_with_the_problem_when_it_would_listen_off_loopback_with_the_development_key() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_auth"))
        .env_remove("APP_ENV")
        .env_remove("SESSION_KEY_ID")
        .env_remove("SESSION_SIGNING_KEY")
        .env_remove("SESSION_PUBLIC_KEYS")
        .env("HOST", "0.0.0.0")
        .env("PORT", "0")
        .env("DATABASE_URL", "mem://")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the auth binary starts");
    // A binary that took the configuration would serve forever: give it ten seconds.
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.try_wait().expect("the child's status") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("auth started with the development key on 0.0.0.0");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().expect("stderr"), &mut stderr).expect("stderr read");
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("SESSION_PUBLIC_KEYS is required when HOST=0.0.0.0"), "{stderr}");
}

#[test]
fn auth_keygen_prints_a_key_pair_the_configuration_takes_in_production() {
    let output = Command::new(env!("CARGO_BIN_EXE_auth")).arg("keygen").output().expect("auth keygen runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let lines = String::from_utf8(output.stdout).expect("UTF-8");
    let mut vars: Vec<(&str, &str)> = lines.lines().filter(|l| !l.starts_with('#')).filter_map(|l| l.split_once('=')).collect();
    let names: Vec<&str> = vars.iter().map(|(name, _)| *name).collect();
    assert_eq!(names, ["SESSION_KEY_ID", "SESSION_SIGNING_KEY", "SESSION_PUBLIC_KEYS"], "{lines}");
    vars.push(("DATABASE_URL", "mem://"));
    let config = read(&vars).unwrap_or_else(|error| panic!("{error}\n{lines}"));
    assert!(!config.signing_key.is_development());
    vars.extend([("APP_ENV", "production"), ("HOST", "0.0.0.0")]);
    let problems = session_problems(&vars);
    assert!(problems.is_empty(), "{problems:?}\n{lines}");
}
