//! Group commit on both backends: reports filed together share one transaction, and every
//! guarantee of a lone report holds — a key sent twice replays, a second report of one problem
//! joins the first, a refused report is answered alone, a report that fails inside the batch
//! fails alone (the rest are filed again one by one), nothing is lost or doubled. The batch
//! function is driven directly (so the batch is known), then many phones report at once over
//! HTTP.

use gridwork::auth::Caller;
use gridwork::error::ApiError;
use gridwork::events::actions::Ctx;
use gridwork::events::group_commit::{FiledReport, file_batch};
use gridwork::events::{Filed, NewReport};
use gridwork::queries;
use gridwork_mobile_core::Role;
use gridwork_mobile_core::domain::event::Source;
use gridwork_tests::{TestApp, both_backends, status_json};
use serde_json::{Value, json};

/// Points inside the demo map, far enough apart not to be linked as duplicates.
fn point(n: u32) -> (f64, f64) {
    (30.581 + 0.002 * f64::from(n % 8), 114.271 + 0.002 * f64::from(n / 8))
}

fn new_report(at: (f64, f64), source: Source, evidence: &[&str]) -> NewReport {
    NewReport {
        category: "E-01-02".into(),
        source,
        lat: at.0,
        lng: at.1,
        description: "路面积水".into(),
        address: None,
        grade: None,
        suggested_grade: None,
        at: None,
        evidence: evidence.iter().map(|e| (*e).to_owned()).collect(),
    }
}

async fn caller(app: &TestApp, name: &str) -> Caller {
    app.user(name, Role::Resident, Some("420100")).await;
    let id = app.id_of(name).await;
    app.db
        .run(move |conn| {
            Ok(Caller {
                user: queries::users::by_id(conn, &id)?,
                session_id: "group-commit-test".into(),
                grants: vec![],
            })
        })
        .await
        .unwrap()
}

async fn batch(app: &TestApp, work: Vec<(Caller, NewReport, String)>) -> Vec<Result<FiledReport, ApiError>> {
    let state = app.state.clone();
    app.db
        .run(move |conn| {
            let index = state.areas();
            Ok(file_batch(conn, Ctx { index: &index, policy: &state.settings.event_loop }, &work))
        })
        .await
        .unwrap()
}

fn filed(r: &Result<FiledReport, ApiError>) -> (String, Filed) {
    let (row, filed, _) = r.as_ref().unwrap_or_else(|e| panic!("{e:?}"));
    (row.id.clone(), *filed)
}

fn refused(r: &Result<FiledReport, ApiError>) -> String {
    let Err(e) = r else { panic!("not refused") };
    e.fields.values().next().map(|f| f.code.clone()).unwrap_or_default()
}

async fn count_events(app: &TestApp) -> i64 {
    use diesel::prelude::*;
    app.db.run(|conn| Ok(gridwork::db::schema::events::table.count().get_result(conn)?)).await.unwrap()
}

both_backends! {
    async fn a_batch_files_in_order_and_a_bad_report_fails_alone(app: TestApp) {
        app.demo_city().await;
        let (a, b) = (caller(&app, "group.a").await, caller(&app, "group.b").await);
        let job = |c: &Caller, n: u32, source: Source, key: &str, evidence: &[&str]| {
            (c.clone(), new_report(point(n), source, evidence), key.to_owned())
        };
        // One transaction: a key sent twice replays, a second report of one problem joins the
        // first, a report the checks refuse is answered alone.
        let out = batch(&app, vec![
            job(&a, 0, Source::Resident, "k1", &[]),
            job(&a, 0, Source::Resident, "k1", &[]),
            job(&b, 0, Source::Resident, "k2", &[]),
            job(&b, 1, Source::Resident, "k3", &[]),
            job(&a, 2, Source::GridWorker, "k4", &[]),
        ]).await;
        let first = filed(&out[0]);
        assert_eq!(first.1, Filed::Created);
        assert_eq!(filed(&out[1]), (first.0.clone(), Filed::Replayed));
        assert_eq!(filed(&out[2]), (first.0.clone(), Filed::Duplicate));
        assert_eq!(filed(&out[3]).1, Filed::Created);
        assert_eq!(refused(&out[4]), "source_not_permitted");
        assert_eq!(count_events(&app).await, 2);

        // A report that fails inside the transaction (a photo nobody uploaded; a point outside
        // the map) undoes the batch; the others are filed again, one by one, once each.
        let out = batch(&app, vec![
            job(&a, 3, Source::Resident, "k5", &[]),
            job(&b, 4, Source::Resident, "k6", &["ev_nobody_uploaded_this"]),
            job(&a, 0, Source::Resident, "k1", &[]),
            (b.clone(), new_report((0.5, 0.5), Source::Resident, &[]), "k7".into()),
            job(&b, 5, Source::Resident, "k8", &[]),
        ]).await;
        assert_eq!(filed(&out[0]).1, Filed::Created);
        assert_eq!(refused(&out[1]), "unknown_evidence");
        assert_eq!(filed(&out[2]), (first.0.clone(), Filed::Replayed));
        assert_eq!(refused(&out[3]), "outside_service_area");
        assert_eq!(filed(&out[4]).1, Filed::Created);
        assert_eq!(count_events(&app).await, 4, "no event of the undone batch survived, none was doubled");
        let (ka, kb) = (a.user.id.clone(), b.user.id.clone());
        let keys = app.db.run(move |conn| {
            Ok((queries::events::idempotent(conn, &ka, "k5")?.is_some(), queries::events::idempotent(conn, &kb, "k6")?.is_some()))
        }).await.unwrap();
        assert_eq!(keys, (true, false));
    }

    async fn many_phones_at_once_lose_nothing_and_double_nothing(app: TestApp) {
        let admin = app.demo_city().await;
        let mut phones = vec![];
        for i in 0..12 {
            let name = format!("phone{i}");
            app.user(&name, Role::Resident, Some("420100")).await;
            phones.push(app.login(&name).await);
        }
        // Each phone files two reports at once, and sends the first of them twice (a resend
        // racing the original); three phones report the same problem.
        let send = |i: usize, at: (f64, f64), key: String| {
            let body = json!({"category": "E-01-02", "lat": at.0, "lng": at.1, "description": "路面积水", "source": "resident"});
            let req = app.client.post(app.url("/api/v1/events")).bearer_auth(&phones[i]).header("Idempotency-Key", key).json(&body);
            tokio::spawn(async move { (i, status_json(req.send().await.unwrap()).await) })
        };
        let mut requests = vec![];
        for i in 0..phones.len() {
            let n = u32::try_from(i).unwrap() * 2;
            let first = if i < 3 { point(40) } else { point(n) };
            requests.push(send(i, first, format!("first-{i}")));
            requests.push(send(i, first, format!("first-{i}")));
            requests.push(send(i, point(n + 1), format!("second-{i}")));
        }
        let mut answers: Vec<(usize, (u16, Value))> = vec![];
        for r in requests {
            answers.push(r.await.unwrap());
        }
        let mut events = std::collections::BTreeSet::new();
        for (i, chunk) in answers.chunks(3).enumerate() {
            for (_, (s, b)) in chunk {
                assert!(*s == 201 || *s == 200, "phone {i}: {s} {b}");
                events.insert(b["id"].as_str().unwrap().to_owned());
            }
            let (first, resend) = (&chunk[0].1.1, &chunk[1].1.1);
            assert_eq!(first["id"], resend["id"], "a resend names the same event");
            let outcomes = [first["filed"].as_str().unwrap(), resend["filed"].as_str().unwrap()];
            assert!(outcomes.contains(&"replayed"), "one of the two replays: {outcomes:?}");
        }
        // Nine phones' two problems each, three phones' second ones, and the one they share. On
        // PostgreSQL two first reports of one problem in batches committing at the same moment
        // may each open an event (neither sees the other's before commit, as with lone reports).
        let distinct = 9 * 2 + 3;
        match app.test_db.backend {
            gridwork_tests::Backend::Sqlite => assert_eq!(events.len(), distinct + 1, "{events:?}"),
            gridwork_tests::Backend::Postgres => assert!((distinct + 1..=distinct + 3).contains(&events.len()), "{events:?}"),
        }
        assert_eq!(count_events(&app).await, i64::try_from(events.len()).unwrap());
        // Every report went through a group commit; how many shared one is the machine's affair.
        let metrics = app.client.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
        let value = |name: &str| {
            metrics.lines().find_map(|l| l.strip_prefix(name)).and_then(|v| v.trim().parse::<f64>().ok()).unwrap_or(0.0)
        };
        assert_eq!(value("gridwork_report_batch_size_sum "), answers.len() as f64, "{metrics}");
        let batches = value("gridwork_report_batch_size_count ");
        assert!(batches >= 1.0 && batches <= answers.len() as f64, "{metrics}");
        eprintln!("{} reports in {batches} transactions", answers.len());
        // Every timeline's chain holds and every event has its milestones row.
        let verified = app.db.run(gridwork::events::timeline::verify).await.unwrap();
        assert_eq!((verified.events, verified.problems.len()), (events.len(), 0), "{:?}", verified.problems);
        let milestones: i64 = app.db.run(|conn| {
            use diesel::prelude::*;
            Ok(gridwork::db::schema::event_milestones::table.count().get_result(conn)?)
        }).await.unwrap();
        assert_eq!(milestones, i64::try_from(events.len()).unwrap());
        for id in &events {
            let (s, e) = app.get(&format!("/api/v1/events/{id}"), &admin).await;
            assert_eq!(s, 200, "{e}");
            let reports = e["timeline"].as_array().unwrap().iter().filter(|t| t["action"] == "report").count();
            assert_eq!(reports, 1, "one opening entry: {e}");
        }
    }
}
