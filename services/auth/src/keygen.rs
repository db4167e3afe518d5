//! `auth keygen [<kid>]`: a new Ed25519 key pair for sessions, printed as the environment lines
//! an operator gives auth alone (the private key) and every service (the public keys). Needs no
//! configuration; the key id defaults to today's date and a few characters of the public key.
use std::process::ExitCode;

use shared::session::SigningKey;
use time::OffsetDateTime;

const USAGE: &str = "usage: auth keygen [<key-id>]";

/// Runs `keygen` when it is the first argument; `None` otherwise.
pub fn command() -> Option<ExitCode> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) != Some("keygen") {
        return None;
    }
    let result = match args.len() {
        1 | 2 => generate(args.get(1).map(String::as_str)),
        _ => Err(anyhow::anyhow!(USAGE)),
    };
    Some(match result {
        Ok(key) => {
            print!("{}", env_lines(&key));
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("auth: {error:#}");
            ExitCode::FAILURE
        }
    })
}

/// A key pair from the operating system's random source, under `kid` or a fresh one.
pub fn generate(kid: Option<&str>) -> anyhow::Result<SigningKey> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|error| anyhow::anyhow!("the operating system gave no random bytes: {error}"))?;
    let kid = match kid {
        Some(kid) => kid.to_string(),
        None => {
            let public = SigningKey::from_seed("new", seed).map_err(anyhow::Error::msg)?.public_key();
            let date = OffsetDateTime::now_utc().date();
            let (year, month, day) = (date.year(), u8::from(date.month()), date.day());
            format!("{year:04}-{month:02}-{day:02}-{:02x}{:02x}{:02x}", public[0], public[1], public[2])
        }
    };
    SigningKey::from_seed(&kid, seed).map_err(|why| anyhow::anyhow!("{why}\n{USAGE}"))
}

/// What `auth keygen` prints: comments saying where each line goes, then the lines.
pub fn env_lines(key: &SigningKey) -> String {
    format!(
        "# Session key pair {kid}.\n\
         # auth only (Kubernetes: the Secret session-signing-key):\n\
         SESSION_KEY_ID={kid}\n\
         SESSION_SIGNING_KEY={seed}\n\
         # every service, auth included (Kubernetes: the Secret session-public-keys); while rotating,\n\
         # list the old key too (old,new) until the sessions it signed have expired:\n\
         SESSION_PUBLIC_KEYS={public}\n",
        kid = key.kid(),
        seed = key.to_base64(),
        public = key.verifying_keys(),
    )
}

#[cfg(test)]
mod tests {
    use shared::session::VerifyingKeys;

    use super::*;

    fn value<'a>(lines: &'a str, name: &str) -> &'a str {
        lines.lines().find_map(|line| line.strip_prefix(name)?.strip_prefix('=')).unwrap_or_else(|| panic!("{name} in {lines}"))
    }

    #[test]
    fn the_printed_lines_are_a_key_pair_the_configuration_takes() {
        let key = generate(None).unwrap();
        let lines = env_lines(&key);
        let signing = SigningKey::parse(value(&lines, "SESSION_KEY_ID"), value(&lines, "SESSION_SIGNING_KEY")).unwrap();
        let public = VerifyingKeys::parse(value(&lines, "SESSION_PUBLIC_KEYS")).unwrap();
        assert_eq!(public.get(key.kid()), Some(&signing.public_key()));
        assert!(!signing.is_development());
        assert!(lines.lines().all(|line| line.starts_with('#') || line.starts_with("SESSION_")), "{lines}");
    }

    #[test]
    fn every_key_is_new_and_a_given_kid_is_kept_if_valid() {
        assert_ne!(generate(None).unwrap().public_key(), generate(None).unwrap().public_key());
        assert_eq!(generate(Some("2030-rotation")).unwrap().kid(), "2030-rotation");
        assert!(generate(Some("not a kid")).is_err());
    }
}
