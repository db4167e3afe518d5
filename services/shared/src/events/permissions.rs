//! Who may publish what on NATS (docs/events.md, "Who may publish"): each service that uses
//! events connects as its own user, allowed to publish only the subjects it owns, its own
//! consumer's internal subjects (acks, dead letters, replays) and the JetStream API calls its own
//! durable consumer and the streams need; it may subscribe only to its own reply inbox
//! (`_INBOX.<user>.>`: pulled events arrive there) and to the subjects it owns (its replicas hear
//! each other's writes). A message on another owner's subject is refused by the server. The web
//! server connects as `web`, a listener: it may subscribe to the events the pages' live updates
//! follow and publish nothing (server/src/live.rs). The auth service connects as `auth` to end
//! sessions (puts into the revoked sessions' bucket, through its outbox) and has no consumer;
//! every service may look a session up there (a direct get, which only reads).
//!
//! One table, rendered into the servers' `authorization` block wherever a server runs: Kubernetes
//! (`auth.conf` in the `nats-config` ConfigMap, passwords from the environment, checked by
//! `tools/deploy-check`), `scripts/dev` (`scripts/nats-dev.conf`, checked by a test below) and the
//! tests (`test-support` writes it), so the three cannot drift.
//!
//! What a user's rights cannot narrow, and why it is acceptable: the filter of a durable consumer
//! with several subjects is not part of the API subject, so a service could point its own consumer
//! at other subjects (reading events, never forging them). Nor can they narrow a consumer's
//! delivery subject: whoever may create a consumer may make it a push consumer that delivers to
//! any subject, which the server then publishes to on its behalf (nats-server checks no
//! permission there). So a service may create its one durable consumer and no other: the
//! dead-letter stream is read, and replayed, by the operator's `dead-letters` command, which runs
//! as `admin` (a service could once create consumers there, and one delivered its dead letters
//! onto the web server's `order.completed`).
use super::streams::{DEAD_LETTER_PREFIX, DEAD_LETTER_STREAM, EXPIRATION_STREAM, REVOKED_SESSIONS, REVOKED_SESSIONS_STREAM, STREAM};
use super::{
    Event, OrderCancelled, OrderCompleted, OrderCreated, PaymentCreated, PaymentExpired, TicketCreated, TicketDeleted, TicketUpdated,
};

/// The operator's user: every right. No service runs as it; the tests' harness, the fault run's
/// checks and an operator changing a stream's configuration do.
pub const ADMIN: &str = "admin";

/// A service's NATS user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServiceUser {
    /// The user's name: the service's.
    pub name: &'static str,
    /// Its durable consumer on `TICKETING`; auth has none.
    pub durable: Option<&'static str>,
    /// The subjects it owns, the only events it may publish.
    pub owns: &'static [&'static str],
}

/// Every service that connects to NATS. `expiration.complete` has no publisher among them: the
/// expiration service stores a schedule (`expiration.schedule.<orderId>`) in its own stream, which
/// lets a schedule target only that stream's subjects, and the server publishes the
/// `expiration.complete` when it is due.
pub const SERVICES: &[ServiceUser] = &[
    ServiceUser { name: "auth", durable: None, owns: &[REVOKED_SESSION_KEYS] },
    ServiceUser {
        name: "tickets",
        durable: Some("tickets-service"),
        owns: &[TicketCreated::SUBJECT, TicketUpdated::SUBJECT, TicketDeleted::SUBJECT],
    },
    ServiceUser {
        name: "orders",
        durable: Some("orders-service"),
        owns: &[OrderCreated::SUBJECT, OrderCancelled::SUBJECT, OrderCompleted::SUBJECT],
    },
    ServiceUser { name: "payments", durable: Some("payments-service"), owns: &[PaymentCreated::SUBJECT, PaymentExpired::SUBJECT] },
    ServiceUser { name: "expiration", durable: Some("expiration-service"), owns: &[SCHEDULE_SUBJECTS] },
];

/// The revoked sessions' keys, one per session (`nats::revoked_session_subject`, checked below).
const REVOKED_SESSION_KEYS: &str = "$KV.SESSIONS_REVOKED.*";

/// The expiration service's schedules, one subject per order (`SCHEDULE_PREFIX`, checked below).
const SCHEDULE_SUBJECTS: &str = "expiration.schedule.*";

/// The user named `name`, if a service runs as it.
pub fn service(name: &str) -> Option<&'static ServiceUser> {
    SERVICES.iter().find(|s| s.name == name)
}

/// A user that only listens: it may subscribe to the events it hears and publish nothing, not
/// even to the JetStream API. A core subscription needs no more: a live page wants what happens
/// from now on, never a replay, so it has no consumer, no acks and no replies to wait for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListenerUser {
    pub name: &'static str,
    /// The subjects it subscribes to, each by its exact name.
    pub hears: &'static [&'static str],
}

/// The web server: what its pages show changes on the ticket events (created, reserved or
/// released, edited, deleted) and when an order is paid or cancelled (`order.completed` also
/// tells it a ticket was sold, which no ticket event says). `order.created` tells it nothing
/// the `ticket.updated` of the reservation does not.
pub const WEB: ListenerUser = ListenerUser {
    name: "web",
    hears: &[TicketCreated::SUBJECT, TicketUpdated::SUBJECT, TicketDeleted::SUBJECT, OrderCancelled::SUBJECT, OrderCompleted::SUBJECT],
};

/// Every user that only listens.
pub const LISTENERS: &[ListenerUser] = &[WEB];

/// Whether the part `name` (a Deployment's name) connects to NATS as a user of its own.
pub fn connects(name: &str) -> bool {
    service(name).is_some() || LISTENERS.iter().any(|l| l.name == name)
}

impl ListenerUser {
    /// What it may not publish: anything.
    pub fn publish_deny(&self) -> Vec<String> {
        vec![">".to_string()]
    }

    /// What it may subscribe to: the subjects it hears, nothing else (no inbox: it asks nothing).
    pub fn subscribe_allow(&self) -> Vec<String> {
        self.hears.iter().map(|s| s.to_string()).collect()
    }
}

/// Every user of the servers' configuration: the services', the listeners', then the operator's.
pub fn users() -> Vec<&'static str> {
    SERVICES.iter().map(|s| s.name).chain(LISTENERS.iter().map(|l| l.name)).chain([ADMIN]).collect()
}

/// Where a user's replies arrive (`ConnectOptions::custom_inbox_prefix`): under its own prefix,
/// so that no user may subscribe to another's replies.
pub fn inbox_prefix(user: &str) -> String {
    format!("_INBOX.{user}")
}

/// The password a development run and the tests use for `user` (never valid in production).
pub fn development_password(user: &str) -> String {
    format!("{user}-dev-password")
}

/// The environment variable a server reads `user`'s password from (`NATS_PASSWORD_TICKETS`, …).
pub fn password_variable(user: &str) -> String {
    format!("NATS_PASSWORD_{}", user.to_ascii_uppercase())
}

impl ServiceUser {
    /// What it may publish: its own events, its consumer's acks and dead letters, and the
    /// JetStream API requests it makes (account info for readiness, stream info and creation, its
    /// own durable consumer). No other consumer: see the module's note on delivery subjects.
    pub fn publish_allow(&self) -> Vec<String> {
        let mut allow: Vec<String> = self.owns.iter().map(|s| s.to_string()).collect();
        if let Some(durable) = self.durable {
            allow.extend([format!("$JS.ACK.{STREAM}.{durable}.>"), format!("{DEAD_LETTER_PREFIX}.{durable}.>")]);
        }
        allow.push("$JS.API.INFO".to_string());
        for stream in [STREAM, EXPIRATION_STREAM, DEAD_LETTER_STREAM, REVOKED_SESSIONS_STREAM] {
            // Create only: an existing stream's configuration is changed by an operator.
            allow.push(format!("$JS.API.STREAM.INFO.{stream}"));
            allow.push(format!("$JS.API.STREAM.CREATE.{stream}"));
        }
        // Whether a session was ended: a read of one key (a direct get, or a message get where
        // the bucket does not answer direct gets).
        allow.push(format!("$JS.API.DIRECT.GET.{REVOKED_SESSIONS_STREAM}.$KV.{REVOKED_SESSIONS}.*"));
        allow.push(format!("$JS.API.STREAM.MSG.GET.{REVOKED_SESSIONS_STREAM}"));
        if let Some(durable) = self.durable {
            allow.extend([
                format!("$JS.API.CONSUMER.CREATE.{STREAM}.{durable}"),
                format!("$JS.API.CONSUMER.INFO.{STREAM}.{durable}"),
                format!("$JS.API.CONSUMER.MSG.NEXT.{STREAM}.{durable}"),
            ]);
        }
        allow
    }

    /// What it may subscribe to: the subjects it owns, and its own replies (JetStream API
    /// answers, publish acks, pulled events). Its own events tell it nothing it could not know;
    /// they tell a replica what the others wrote (the tickets replicas' cached lists).
    pub fn subscribe_allow(&self) -> Vec<String> {
        let mut allow: Vec<String> = self.owns.iter().map(|s| s.to_string()).collect();
        allow.push(format!("{}.>", inbox_prefix(self.name)));
        allow
    }
}

/// How the rendered configuration gives each user's password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Passwords {
    /// `$NATS_PASSWORD_TICKETS`, …: the server reads each from its environment (Kubernetes gives
    /// it the Secrets, `scripts/cluster` the ones it generates).
    Environment,
    /// The development passwords, written out (`scripts/dev`, the tests).
    Development,
}

impl Passwords {
    fn render(self, user: &str) -> String {
        match self {
            Self::Environment => format!("${}", password_variable(user)),
            Self::Development => format!("\"{}\"", development_password(user)),
        }
    }
}

/// The servers' `authorization` block: every service's user with its permissions, every
/// listener's, and the operator's user with every right.
pub fn authorization(passwords: Passwords) -> String {
    let mut out = String::from("authorization {\n  users = [\n");
    for service in SERVICES {
        out += "    {\n";
        out += &format!("      user: {}\n", service.name);
        out += &format!("      password: {}\n", passwords.render(service.name));
        out += "      permissions: {\n";
        allow_list(&mut out, "publish", &service.publish_allow());
        allow_list(&mut out, "subscribe", &service.subscribe_allow());
        out += "      }\n";
        out += "    }\n";
    }
    for listener in LISTENERS {
        out += "    {\n";
        out += &format!("      user: {}\n", listener.name);
        out += &format!("      password: {}\n", passwords.render(listener.name));
        out += "      permissions: {\n";
        // A deny rather than an empty allow list, which the server might read as no rule.
        subject_list(&mut out, "publish", "deny", &listener.publish_deny());
        allow_list(&mut out, "subscribe", &listener.subscribe_allow());
        out += "      }\n";
        out += "    }\n";
    }
    out += "    {\n";
    out += &format!("      user: {ADMIN}\n");
    out += &format!("      password: {}\n", passwords.render(ADMIN));
    out += "    }\n";
    out += "  ]\n}\n";
    out
}

fn allow_list(out: &mut String, kind: &str, subjects: &[String]) {
    subject_list(out, kind, "allow", subjects);
}

fn subject_list(out: &mut String, kind: &str, rule: &str, subjects: &[String]) {
    *out += &format!("        {kind}: {{ {rule}: [\n");
    for subject in subjects {
        *out += &format!("          \"{subject}\"\n");
    }
    *out += "        ] }\n";
}

/// A configuration's lines that matter: no comments, no blank lines, no indentation. Two
/// renderings of the same users and permissions are equal under it.
pub fn significant_lines(config: &str) -> Vec<&str> {
    config.lines().map(str::trim).filter(|line| !line.is_empty() && !line.starts_with('#')).collect()
}

/// Whether a NATS subject pattern (`*` one token, `>` the rest) covers `subject`.
pub fn covers(pattern: &str, subject: &str) -> bool {
    let mut subject = subject.split('.');
    for token in pattern.split('.') {
        match (token, subject.next()) {
            (">", Some(_)) => return true,
            ("*", Some(_)) => {}
            (token, Some(found)) if token == found => {}
            _ => return false,
        }
    }
    subject.next().is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The events contract's table (docs/events.md): each subject and the only service that may publish it.
    const OWNERS: &[(&str, Option<&str>)] = &[
        ("ticket.created", Some("tickets")),
        ("ticket.updated", Some("tickets")),
        ("ticket.deleted", Some("tickets")),
        ("order.created", Some("orders")),
        ("order.cancelled", Some("orders")),
        ("order.completed", Some("orders")),
        // Published by the server from the expiration service's schedule.
        ("expiration.complete", None),
        ("expiration.schedule.o1", Some("expiration")),
        ("payment.created", Some("payments")),
        ("payment.expired", Some("payments")),
        ("$KV.SESSIONS_REVOKED.0194f1a2", Some("auth")),
    ];

    #[test]
    fn every_subject_is_published_by_its_owner_alone() {
        for (subject, owner) in OWNERS {
            let publishers: Vec<&str> =
                SERVICES.iter().filter(|s| s.publish_allow().iter().any(|p| covers(p, subject))).map(|s| s.name).collect();
            assert_eq!(publishers, owner.iter().copied().collect::<Vec<_>>(), "who may publish {subject}");
        }
    }

    #[test]
    fn a_service_acks_and_dead_letters_only_for_its_own_consumer() {
        let payments = service("payments").unwrap();
        let allow = payments.publish_allow();
        let may = |subject: &str| allow.iter().any(|p| covers(p, subject));
        assert!(may("$JS.ACK.TICKETING.payments-service.1.2.3.4.5"));
        assert!(!may("$JS.ACK.TICKETING.orders-service.1.2.3.4.5"));
        assert!(!may("replay.payments-service.order.created"), "the operator replays, as admin");
        assert!(may("deadletter.payments-service.order.created"));
        assert!(!may("deadletter.orders-service.payment.created"));
        assert!(!may("$JS.API.STREAM.UPDATE.TICKETING"), "an existing stream is changed by an operator only");
        assert!(!may("$JS.API.STREAM.DELETE.TICKETING"));
        assert!(!may("$JS.API.CONSUMER.CREATE.TICKETING.orders-service"));
        assert!(!may("$JS.API.CONSUMER.CREATE.TICKETING_DEAD_LETTER.x.deadletter.payments-service.>"), "no consumer but its durable");
        assert!(!may("$JS.API.CONSUMER.CREATE.TICKETING.x.payment.created"));
        assert!(!may("$JS.API.STREAM.MSG.DELETE.TICKETING_DEAD_LETTER"));
        assert_eq!(payments.subscribe_allow(), ["payment.created", "payment.expired", "_INBOX.payments.>"]);
    }

    #[test]
    fn the_web_server_hears_the_pages_events_and_may_publish_nothing() {
        assert!(connects("web") && connects("tickets") && connects("auth") && !connects("expiration-worker"));
        assert!(users().contains(&"web"));
        assert_eq!(WEB.publish_deny(), [">"], "every subject, its own inbox included");
        let subscribe = WEB.subscribe_allow();
        for (subject, _) in OWNERS {
            let hears = subscribe.iter().any(|p| covers(p, subject));
            assert_eq!(hears, subject.starts_with("ticket.") || ["order.cancelled", "order.completed"].contains(subject), "{subject}");
        }
        assert!(!subscribe.iter().any(|p| covers(p, "_INBOX.web.x")), "it asks nothing, so it hears no replies");
        let rendered = authorization(Passwords::Development);
        let web = rendered.split("user: web").nth(1).and_then(|rest| rest.split("user: ").next()).expect("web is rendered");
        assert!(web.contains("publish: { deny: [") && !web.contains("publish: { allow"), "{web}");
    }

    #[test]
    fn auth_ends_sessions_and_nothing_else() {
        let auth = service("auth").unwrap();
        let may = |subject: &str| auth.publish_allow().iter().any(|p| covers(p, subject));
        assert!(may(&crate::events::nats::revoked_session_subject("0194f1a2")));
        assert!(!may("$KV.SESSIONS_REVOKED"), "a key, never the bucket's own subjects");
        assert!(!may("ticket.created") && !may("$JS.API.CONSUMER.CREATE.TICKETING.x"));
        let tickets = service("tickets").unwrap();
        let reads = |subject: &str| tickets.publish_allow().iter().any(|p| covers(p, subject));
        assert!(reads("$JS.API.DIRECT.GET.KV_SESSIONS_REVOKED.$KV.SESSIONS_REVOKED.0194f1a2"), "services look sessions up");
        assert!(!reads("$KV.SESSIONS_REVOKED.0194f1a2"), "and only auth ends them");
    }

    #[test]
    fn the_schedule_subjects_are_the_expiration_prefix() {
        assert_eq!(SCHEDULE_SUBJECTS, format!("{}.*", crate::events::nats::SCHEDULE_PREFIX));
    }

    #[test]
    fn covers_follows_nats_wildcards() {
        assert!(covers("a.>", "a.b.c"));
        assert!(!covers("a.>", "a"));
        assert!(covers("a.*", "a.b"));
        assert!(!covers("a.*", "a.b.c"));
        assert!(covers("a.b", "a.b"));
        assert!(!covers("a.b", "a.b.c"));
    }

    #[test]
    fn scripts_dev_runs_the_rendered_configuration() {
        // At run time: a build reused from another clone of the repo still reads this one's file.
        let package = std::env::var_os("CARGO_MANIFEST_DIR").map_or_else(|| env!("CARGO_MANIFEST_DIR").into(), std::path::PathBuf::from);
        let path = package.join("../../scripts/nats-dev.conf");
        let file = std::fs::read_to_string(&path).expect("scripts/nats-dev.conf exists");
        assert_eq!(
            significant_lines(&file),
            significant_lines(&authorization(Passwords::Development)),
            "scripts/nats-dev.conf differs from permissions::authorization(Passwords::Development): regenerate it"
        );
    }
}
