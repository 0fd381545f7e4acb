//! A real load-balanced cluster: three `gridwork serve` processes on one PostgreSQL behind HAProxy,
//! under load from phones, with one replica SIGKILLed and restarted mid-run
//! (`gridwork_tests::cluster_scenario`, which `loadgen --scenario cluster` runs longer). Every
//! acknowledged report and acceptance is stored exactly once, resends with the same idempotency
//! key succeed on another replica, no notice is doubled, the stream resumes on another replica
//! from its `Last-Event-ID`, and the timelines still verify.

use std::time::Duration;

use gridwork_tests::cluster::{Cluster, haproxy_binary};
use gridwork_tests::cluster_scenario::{Plan, run, seed_demo, summary};
use gridwork_tests::{Backend, TestDb, gridwork_bin};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_replicas_behind_haproxy_lose_nothing_when_one_is_killed() {
    let Some(db) = TestDb::new(Backend::Postgres) else { return };
    if haproxy_binary().is_none() {
        assert!(
            std::env::var("GRIDWORK_TEST_REQUIRE_HAPROXY").is_err(),
            "HAProxy is required (GRIDWORK_TEST_REQUIRE_HAPROXY) but not installed"
        );
        eprintln!("SKIPPED: HAProxy is not installed (scripts/test installs Debian's haproxy)");
        return;
    }
    let bin = gridwork_bin();
    let url = db.url.expose().to_owned();
    seed_demo(&bin, &url).await.unwrap();
    let env = [
        ("GRIDWORK_LIMIT_REPORTS_PER_MINUTE", "0".to_owned()),
        ("GRIDWORK_LIMIT_SIGN_INS_PER_MINUTE", "0".to_owned()),
        // Every replica runs the scheduler, as in production: nothing it does may double up.
        ("GRIDWORK_SCHEDULER_INTERVAL", "1".to_owned()),
    ];
    let mut cluster = Cluster::start(&bin, &url, 3, &env).unwrap();
    let plan =
        Plan { phones: 6, seconds: 10, victim: 1, kill_at: Duration::from_secs(3), down_for: Duration::from_secs(2) };
    let out = run(&mut cluster, &plan).await.unwrap();
    for (k, v) in summary(&out, plan.seconds) {
        eprintln!("{k}: {v}");
    }

    assert!(out.reports_acknowledged > 20, "too little load to mean anything: {out:?}");
    assert_eq!(out.abandoned, 0, "a phone gave up: {out:?}");
    assert!(out.resends > 0, "the kill cut nothing: the test proved nothing ({out:?})");
    // Each acknowledged report's key once, and no event beyond those the answers named (a resend
    // that made a second event would show here).
    assert_eq!(out.keys_stored, out.reports_acknowledged as i64, "{out:?}");
    assert_eq!(out.events_stored, out.distinct_events as i64, "{out:?}");
    // Each acknowledged acceptance once (a duplicate's resend of the same acceptance is answered
    // from its key).
    assert_eq!(out.accepts_acknowledged, out.reports_acknowledged, "{out:?}");
    assert_eq!(out.accepted_events_stored, out.distinct_events as i64, "{out:?}");
    assert_eq!(out.accepts_stored_max_per_event, 1, "{out:?}");
    assert_eq!(out.doubled_notices, 0, "{out:?}");
    // The stream broke with its replica and resumed on another without a gap.
    assert!(out.stream_reconnects >= 1, "{out:?}");
    assert_eq!(out.missing_from_stream, 0, "{out:?}");
    // The restarted replica serves again.
    cluster.wait_ready(plan.victim).unwrap();
    drop(cluster);

    // Every timeline's chain holds.
    let verify = std::process::Command::new(&bin).args(["audit", "verify", "--database-url", &url]).output().unwrap();
    let text = String::from_utf8_lossy(&verify.stdout);
    assert!(verify.status.success(), "{text}{}", String::from_utf8_lossy(&verify.stderr));
    assert!(text.contains(" 0 problems") || text.contains("0 problems"), "{text}");
}
