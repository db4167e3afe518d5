//! A bounded stream at its limit: publishes wait in the outbox, none is dropped, and every
//! event goes out once the stream has room again.
use std::time::Duration;

use serde_json::json;
use test_support::{eventually, scrape, stored};

use crate::helpers::spawn_app_with;

/// Unbounded, a seller's save loop once grew the streams until the server's storage was full;
/// bounded with NATS' default policy, it would delete events no consumer had read.
#[tokio::test]
async fn a_full_stream_makes_the_outbox_wait_and_nothing_is_lost() {
    // TICKETING holds 16 KiB here: about fifty events.
    let app = spawn_app_with(&[("NATS_STREAM_MAX_BYTES", "16384")]).await;
    let ticket = app.ticket("seller", "Looped", 20.0).await;
    let id = ticket["id"].as_str().unwrap().to_string();
    const EDITS: u64 = 150;
    for n in 1..=EDITS {
        let response = app.put(Some("seller"), &id, json!({ "title": format!("Looped {n}"), "price": 20 })).await;
        assert_eq!(response.status().as_u16(), 200, "edit {n}: the seller's write is kept, whatever the stream");
    }
    // The stream is full: the rest wait in the outbox (the stream stays below the edits made),
    // and the stream's fill is reported. (The values are not compared: every test of this
    // process reports into one recorder, other tickets services' streams included.)
    let stalled = stored(&app.nats, "ticket.updated").await.len() as u64;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let held = stored(&app.nats, "ticket.updated").await.len() as u64;
    assert!(held < EDITS && held == stalled, "the stream refused what did not fit ({held} of {EDITS} stored, {stalled} a second before)");
    let js = async_nats::jetstream::new(test_support::client(&app.nats).await);
    let info = js.get_stream("TICKETING").await.unwrap().cached_info().clone();
    assert_eq!((info.config.max_bytes, info.config.discard), (16384, async_nats::jetstream::stream::DiscardPolicy::New));
    let reported = eventually(Duration::from_secs(20), || async {
        scrape(&app.client, &app.address).await.contains("jetstream_stream_max_bytes{stream=\"TICKETING\"}")
    })
    .await;
    assert!(reported, "the streams' limits are metrics");

    // An operator grows the stream (docs/operations.md): the outbox drains, in order, each once.
    let mut config = js.get_stream("TICKETING").await.unwrap().cached_info().config.clone();
    config.max_bytes = 8 << 20;
    js.update_stream(config).await.expect("the admin grows the stream");
    let all_out = eventually(Duration::from_secs(30), || async { stored(&app.nats, "ticket.updated").await.len() as u64 == EDITS }).await;
    let versions: Vec<u64> = stored(&app.nats, "ticket.updated").await.iter().filter_map(|m| m.payload["version"].as_u64()).collect();
    assert!(all_out, "every edit's event is published once the stream has room ({} of {EDITS})", versions.len());
    assert_eq!(versions, (1..=EDITS).collect::<Vec<_>>(), "each version once, in order");
}
