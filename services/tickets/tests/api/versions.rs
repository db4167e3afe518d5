//! Optimistic concurrency at the store: two writers that read the same version cannot both win.
use contract::{Cents, TicketId, Version};
use shared::config::DatabaseSettings;
use shared::events::outbox::OutboxRecord;
use shared::events::TicketUpdated;
use tickets::store::{self, Guarded, TicketRow};

fn updated(version: u32) -> OutboxRecord {
    let event = TicketUpdated {
        id: "t1".into(),
        version: version.into(),
        title: "x".into(),
        price: Cents(100),
        user_id: "u".into(),
        order_id: None,
    };
    OutboxRecord::new(&event).unwrap()
}

#[tokio::test]
async fn two_writers_of_the_same_version_cannot_both_succeed() {
    let db = shared::store::connect(&DatabaseSettings::in_memory("tickets"), &store::schema()).await.unwrap();
    let row = TicketRow {
        id: "t1".into(),
        title: "t".into(),
        price: 100,
        user_id: "u".into(),
        version: Version::FIRST,
        order_id: None,
        reserved_until: None,
        sold: false,
        sold_at: None,
        deleted: false,
    };
    let created = OutboxRecord::new(&shared::events::TicketDeleted { id: "t1".into(), version: Version::FIRST }).unwrap();
    store::insert(&db, &row, created).await.unwrap();

    let t1 = TicketId::from("t1");
    assert_eq!(store::update(&db, &t1, Version::FIRST, "first", Cents(100), updated(1)).await.unwrap(), Guarded::Written);
    assert_eq!(store::update(&db, &t1, Version::FIRST, "second", Cents(100), updated(1)).await.unwrap(), Guarded::Stale);
    let stored = store::get(&db, &t1).await.unwrap().unwrap();
    assert_eq!((stored.title.as_str(), stored.version), ("first", 1.into()), "every save adds exactly one to the version");
    assert_eq!(shared::events::outbox::pending_count(&db).await.unwrap(), 2, "one event per write that happened");
    // What outbox_oldest_age_seconds reports: the records were written just now.
    let age = shared::events::outbox::oldest_age(&db).await.unwrap().expect("the outbox holds records");
    assert!(age < std::time::Duration::from_secs(10), "the oldest record is {age:?} old");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_orders_creation_and_cancellation_handled_at_once_leave_its_ticket_free() {
    // Two replicas share one consumer, so one can handle order.created while the other handles
    // the same order's order.cancelled. Whichever way they interleave, the ticket ends free.
    use shared::events::consumer::{Delivery, Outcome};
    let db = shared::store::connect(&DatabaseSettings::in_memory("tickets"), &store::schema()).await.unwrap();
    let deliver = |subject: &'static str, payload: serde_json::Value| {
        let db = db.clone();
        async move {
            loop {
                let delivery = Delivery { subject: subject.to_string(), payload: payload.to_string().into(), attempt: 1 };
                match tickets::events::handle(db.clone(), || {}, delivery).await.unwrap() {
                    Outcome::Ack => return,
                    Outcome::Wait(delay) => tokio::time::sleep(delay).await,
                    Outcome::Reject(reason) => panic!("{reason}"),
                }
            }
        }
    };
    for n in 0..60 {
        let id = TicketId::from(format!("t{n}"));
        let row = TicketRow {
            id: id.clone(),
            title: "t".into(),
            price: 100,
            user_id: "u".into(),
            version: Version::FIRST,
            order_id: None,
            reserved_until: None,
            sold: false,
            sold_at: None,
            deleted: false,
        };
        let created = OutboxRecord::new(&shared::events::TicketDeleted { id: id.clone(), version: Version::FIRST }).unwrap();
        store::insert(&db, &row, created).await.unwrap();
        let order = format!("o{n}");
        let created = serde_json::json!({ "id": order, "version": 0, "status": "created", "userId": "b", "expiresAt": "2030-01-01T00:00:00Z", "ticket": { "id": id, "price": 1 } });
        let cancelled = serde_json::json!({ "id": order, "version": 1, "ticket": { "id": id } });
        tokio::join!(deliver("order.created", created), deliver("order.cancelled", cancelled));
        let ticket = store::get(&db, &id).await.unwrap().unwrap();
        assert_eq!(ticket.order_id, None, "ticket {id} is held by {order}, which is cancelled");
    }
}
