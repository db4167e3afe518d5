//! Optimistic concurrency at the store: two writers that read the same version cannot both win.
use shared::config::DatabaseSettings;
use shared::events::outbox::OutboxRecord;
use shared::events::TicketUpdated;
use shared::money::Cents;
use tickets::store::{self, Guarded, TicketRow};

fn updated(version: u64) -> OutboxRecord {
    let event = TicketUpdated { id: "t1".into(), version, title: "x".into(), price: Cents(100), user_id: "u".into(), order_id: None };
    OutboxRecord::new(&event).unwrap()
}

#[tokio::test]
async fn two_writers_of_the_same_version_cannot_both_succeed() {
    let settings = DatabaseSettings { url: "mem://".into(), namespace: "test".into(), database: "tickets".into(), credentials: None };
    let db = shared::store::connect(&settings, &store::schema()).await.unwrap();
    let row = TicketRow {
        id: "t1".into(),
        title: "t".into(),
        price: 100,
        user_id: "u".into(),
        version: 0,
        order_id: None,
        sold: false,
        deleted: false,
    };
    let created = OutboxRecord::new(&shared::events::TicketDeleted { id: "t1".into(), version: 0 }).unwrap();
    store::insert(&db, &row, created).await.unwrap();

    assert_eq!(store::update(&db, "t1", 0, "first", Cents(100), updated(1)).await.unwrap(), Guarded::Written);
    assert_eq!(store::update(&db, "t1", 0, "second", Cents(100), updated(1)).await.unwrap(), Guarded::Stale);
    let stored = store::get(&db, "t1").await.unwrap().unwrap();
    assert_eq!((stored.title.as_str(), stored.version), ("first", 1), "every save adds exactly one to the version");
    assert_eq!(shared::events::outbox::pending_count(&db).await.unwrap(), 2, "one event per write that happened");
}
