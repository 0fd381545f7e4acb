//! Evaluation of a scripted month on both backends: ten events driven through the loop by the
//! API (every transition decided by the real machine), then moved in time to a script of
//! November 2026, each timestamp of an event warped onto its scripted timeline. Every count, rate
//! and stage average is then checked against values worked out by hand from the script.

use std::collections::BTreeMap;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use gridwork::db::schema::{event_log, events, supervision_orders, tasks};
use gridwork_mobile_core::Role;
use gridwork_tests::{TestApp, both_backends};
use serde_json::{Value, json};

/// In street 420102003; events at least 44 m apart (not duplicates of each other).
fn place(i: usize) -> (f64, f64) {
    (30.5810 + 0.0004 * (i / 2) as f64, 114.2745 + 0.0008 * (i % 2) as f64)
}

struct People {
    coord: String,
    wang: String,
    chen: String,
    district: String,
}

async fn people(app: &TestApp) -> People {
    app.demo_city().await;
    app.user("coord", Role::Coordinator, Some("420102003")).await;
    app.user("wang", Role::GridWorker, Some("420102003001001")).await;
    app.user("li.na", Role::GridWorker, Some("420102003001001")).await;
    app.user("chen", Role::Resident, Some("420100")).await;
    app.user("district", Role::DistrictOperator, Some("420102")).await;
    let p = People {
        coord: app.login("coord").await,
        wang: app.login("wang").await,
        chen: app.login("chen").await,
        district: app.login("district").await,
    };
    // Only Wang is on duty: accepting dispatches to him.
    app.on_duty(&p.wang, place(0)).await;
    p
}

async fn report(app: &TestApp, p: &People, i: usize) -> String {
    let (lat, lng) = place(i);
    let req = app
        .client
        .post(app.url("/api/v1/events"))
        .bearer_auth(&p.chen)
        .header("Idempotency-Key", format!("month-{i}"))
        .json(&json!({"category": "C-03-01", "lat": lat, "lng": lng, "description": format!("scripted #{i}")}));
    let (s, e) = app.send(req).await;
    assert_eq!(s, 201, "{e}");
    e["id"].as_str().unwrap().to_owned()
}

async fn ok(app: &TestApp, token: &str, id: &str, body: Value) -> Value {
    let (s, b) = app.post(&format!("/api/v1/events/{id}/actions"), token, body.clone()).await;
    assert_eq!(s, 200, "{body} → {b}");
    b
}

async fn resolve(app: &TestApp, token: &str, id: &str) {
    let photo = app.after_photo(token, id).await;
    ok(app, token, id, json!({"action": "resolve", "evidence": [photo]})).await;
}

/// The running stage's deadline passes (the next stage-ending action is late).
async fn overdue(app: &TestApp, id: &str) {
    due(app, id, gridwork::models::now() - chrono::Duration::minutes(1)).await;
}

async fn due(app: &TestApp, id: &str, at: NaiveDateTime) {
    let id = id.to_owned();
    app.db
        .run(move |conn| Ok(diesel::update(events::table.find(&id)).set(events::due_at.eq(Some(at))).execute(conn)?))
        .await
        .unwrap();
}

/// Issues a supervision order on the event; its id.
async fn supervise(app: &TestApp, p: &People, id: &str) -> String {
    ok(app, &p.coord, id, json!({"action": "supervise", "reason": "群众反映强烈"})).await;
    let (_, full) = app.get(&format!("/api/v1/events/{id}"), &p.coord).await;
    full["supervision_orders"].as_array().unwrap().last().unwrap()["id"].as_str().unwrap().to_owned()
}

async fn order(app: &TestApp, token: &str, order: &str, body: Value) {
    let (s, b) = app.post(&format!("/api/v1/supervision-orders/{order}/actions"), token, body).await;
    assert_eq!(s, 200, "{b}");
}

/// Moves an event in time: its timeline's entries get the scripted instants (`start` plus
/// minutes, one per entry, whose actions must match), and every other instant of the event
/// (its tasks, its supervision orders, the event itself) moves with the entry it followed.
async fn warp(app: &TestApp, id: &str, start: NaiveDateTime, script: &[(&str, i64)]) {
    let id = id.to_owned();
    let script: Vec<(String, i64)> = script.iter().map(|(a, m)| ((*a).to_owned(), *m)).collect();
    app.db
        .run(move |conn| {
            let log: Vec<(String, String, NaiveDateTime)> = event_log::table
                .filter(event_log::event_id.eq(&id))
                .order(event_log::seq.asc())
                .select((event_log::id, event_log::action, event_log::created_at))
                .load(conn)?;
            let actions: Vec<&str> = log.iter().map(|(_, a, _)| a.as_str()).collect();
            let scripted: Vec<&str> = script.iter().map(|(a, _)| a.as_str()).collect();
            assert_eq!(actions, scripted, "the timeline of {id}");
            let moved: Vec<(NaiveDateTime, NaiveDateTime)> = log
                .iter()
                .zip(&script)
                .map(|((_, _, real), (_, m))| (*real, start + chrono::Duration::minutes(*m)))
                .collect();
            // An instant moves with the last entry written at or before it.
            let at = |t: NaiveDateTime| moved.iter().rev().find(|(real, _)| *real <= t).map_or(start, |(_, s)| *s);
            for ((entry, _, _), (_, to)) in log.iter().zip(&moved) {
                diesel::update(event_log::table.find(entry)).set(event_log::created_at.eq(to)).execute(conn)?;
            }
            let (created, updated): (NaiveDateTime, NaiveDateTime) =
                events::table.find(&id).select((events::created_at, events::updated_at)).first(conn)?;
            diesel::update(events::table.find(&id))
                .set((events::created_at.eq(at(created)), events::updated_at.eq(at(updated))))
                .execute(conn)?;
            let given: Vec<(String, NaiveDateTime)> =
                tasks::table.filter(tasks::event_id.eq(&id)).select((tasks::id, tasks::created_at)).load(conn)?;
            for (task, t) in given {
                diesel::update(tasks::table.find(task)).set(tasks::created_at.eq(at(t))).execute(conn)?;
            }
            let orders: Vec<(String, NaiveDateTime, Option<NaiveDateTime>)> = supervision_orders::table
                .filter(supervision_orders::event_id.eq(&id))
                .select((supervision_orders::id, supervision_orders::created_at, supervision_orders::decided_at))
                .load(conn)?;
            gridwork::queries::milestones::rebuild(conn, &id)?;
            for (o, t, decided) in orders {
                diesel::update(supervision_orders::table.find(o))
                    .set((
                        supervision_orders::created_at.eq(at(t)),
                        supervision_orders::decided_at.eq(decided.map(&at)),
                    ))
                    .execute(conn)?;
            }
            Ok(())
        })
        .await
        .unwrap();
}

/// A Beijing-time wall clock instant, as stored (UTC).
fn cst(month: u32, day: u32, hour: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2026, month, day).unwrap().and_hms_opt(hour, 0, 0).unwrap() - chrono::Duration::hours(8)
}

/// Plays the month; the ids by letter.
async fn play_the_month(app: &TestApp, p: &People) -> BTreeMap<char, String> {
    let mut ids = BTreeMap::new();
    for (i, letter) in "ABCDEFGHIJ".chars().enumerate() {
        ids.insert(letter, report(app, p, i).await);
    }
    let (coord, wang) = (&p.coord, &p.wang);
    let li = app.id_of("li.na").await;
    let accept = json!({"action": "accept"});
    let (claim, start) = (json!({"action": "claim"}), json!({"action": "start"}));
    let verify = json!({"action": "verify"});

    // A: clean. B: late in handling, excused. C: late, with a supervision order answered and
    // closed. D: an extension and a rework. E: returned by Wang, done by Li. I: reported in
    // October, closed in November.
    for e in ['A', 'B', 'C', 'D', 'E', 'I'] {
        ok(app, coord, &ids[&e], accept.clone()).await;
        ok(app, wang, &ids[&e], claim.clone()).await;
    }
    let c_order = supervise(app, p, &ids[&'C']).await;
    order(app, wang, &c_order, json!({"action": "reply", "text": "已安排处置"})).await;
    ok(app, wang, &ids[&'D'], start.clone()).await;
    ok(app, wang, &ids[&'D'], json!({"action": "request_extension", "reason": "等配件"})).await;
    ok(app, coord, &ids[&'D'], json!({"action": "extend", "reason": "同意"})).await;
    ok(app, wang, &ids[&'E'], json!({"action": "return", "reason": "不属于网格内"})).await;
    ok(app, coord, &ids[&'E'], json!({"action": "dispatch", "assignees": [li]})).await;
    let li_token = app.login("li.na").await;
    ok(app, &li_token, &ids[&'E'], claim.clone()).await;
    for e in ['A', 'B', 'C', 'E', 'I'] {
        let who = if e == 'E' { &li_token } else { wang };
        ok(app, who, &ids[&e], start.clone()).await;
        if matches!(e, 'B' | 'C') {
            overdue(app, &ids[&e]).await;
        }
        resolve(app, who, &ids[&e]).await;
    }
    resolve(app, wang, &ids[&'D']).await;
    ok(app, coord, &ids[&'D'], json!({"action": "rework", "reason": "没清干净"})).await;
    ok(app, wang, &ids[&'D'], start.clone()).await;
    resolve(app, wang, &ids[&'D']).await;
    for e in ['A', 'B', 'C', 'D', 'E', 'I'] {
        ok(app, coord, &ids[&e], verify.clone()).await;
    }
    order(app, coord, &c_order, json!({"action": "accept"})).await;
    ok(app, coord, &ids[&'B'], json!({"action": "excuse", "reason": "暴雨预警停工，经批准"})).await;
    // F: open, overdue now, under an open order. G: rejected. H: merged into F. J: open.
    ok(app, coord, &ids[&'F'], accept.clone()).await;
    ok(app, wang, &ids[&'F'], claim.clone()).await;
    supervise(app, p, &ids[&'F']).await;
    overdue(app, &ids[&'F']).await;
    ok(app, coord, &ids[&'G'], json!({"action": "reject", "reason": "不属实"})).await;
    let f = ids[&'F'].clone();
    ok(app, coord, &ids[&'H'], json!({"action": "merge", "into": f, "reason": "同一问题"})).await;
    ok(app, coord, &ids[&'J'], accept.clone()).await;

    // The script, in minutes after each report.
    let clean = [
        ("report", 0),
        ("accept", 60),
        ("dispatch", 90),
        ("claim", 120),
        ("start", 120),
        ("resolve", 360),
        ("verify", 480),
    ];
    warp(app, &ids[&'A'], cst(11, 3, 9), &clean).await;
    let b = [
        ("report", 0),
        ("accept", 30),
        ("dispatch", 60),
        ("claim", 90),
        ("start", 100),
        ("resolve", 1500),
        ("verify", 1560),
        ("excuse", 1600),
    ];
    warp(app, &ids[&'B'], cst(11, 5, 10), &b).await;
    let c = [
        ("report", 0),
        ("accept", 120),
        ("dispatch", 150),
        ("claim", 200),
        ("supervise", 1000),
        ("supervision_reply", 1100),
        ("start", 1150),
        ("resolve", 2000),
        ("verify", 2100),
        ("supervision_accept", 2200),
    ];
    warp(app, &ids[&'C'], cst(11, 8, 8), &c).await;
    let d = [
        ("report", 0),
        ("accept", 10),
        ("dispatch", 20),
        ("claim", 30),
        ("start", 40),
        ("request_extension", 100),
        ("extend", 130),
        ("resolve", 600),
        ("rework", 700),
        ("start", 720),
        ("resolve", 900),
        ("verify", 960),
    ];
    warp(app, &ids[&'D'], cst(11, 12, 14), &d).await;
    let e = [
        ("report", 0),
        ("accept", 60),
        ("dispatch", 60),
        ("claim", 90),
        ("return", 120),
        ("dispatch_pending", 120),
        ("dispatch", 180),
        ("claim", 200),
        ("start", 210),
        ("resolve", 400),
        ("verify", 460),
    ];
    warp(app, &ids[&'E'], cst(11, 20, 9), &e).await;
    let i = [
        ("report", 0),
        ("accept", 60),
        ("dispatch", 90),
        ("claim", 100),
        ("start", 110),
        ("resolve", 2880),
        ("verify", 4320),
    ];
    warp(app, &ids[&'I'], cst(10, 30, 10), &i).await;
    let f = [("report", 0), ("accept", 30), ("dispatch", 30), ("claim", 60), ("supervise", 120), ("merge_in", 2900)];
    warp(app, &ids[&'F'], cst(11, 25, 9), &f).await;
    warp(app, &ids[&'G'], cst(11, 26, 9), &[("report", 0), ("reject", 30)]).await;
    warp(app, &ids[&'H'], cst(11, 27, 9), &[("report", 0), ("merge", 20)]).await;
    warp(app, &ids[&'J'], cst(11, 29, 10), &[("report", 0), ("accept", 60), ("dispatch", 60)]).await;
    // F fell due in November: overdue whenever the month is looked at.
    due(app, &ids[&'F'], cst(11, 26, 9)).await;
    ids
}

const NOVEMBER: &str = "from=2026-11-01T00:00:00%2B08:00&to=2026-12-01T00:00:00%2B08:00";

fn unit<'a>(b: &'a Value, unit: &str) -> &'a Value {
    b["units"].as_array().unwrap().iter().find(|u| u["unit"] == unit).unwrap_or_else(|| panic!("{unit} in {b}"))
}

both_backends! {
    async fn a_scripted_month_matches_the_hand_computed_evaluation(app: TestApp) {
        let p = people(&app).await;
        play_the_month(&app, &p).await;
        let (s, b) = app.get(&format!("/api/v1/evaluation?by=street&{NOVEMBER}"), &p.district).await;
        assert_eq!(s, 200, "{b}");
        let street = unit(&b, "420102003");
        // Reported in November: all but I (9). Accepted and first dispatched in November: A B C D E
        // F J (7). Returned: E. Closed in November: A B C D E I (6; H was merged, G rejected).
        // On time: all closed but C (B's late stage is excused). Reworked, extended: D.
        // Overdue now: F. Orders issued in November: C's and F's; closed: C's; open: F's.
        let counts = [
            ("reported", 9), ("accepted", 7), ("dispatched", 7), ("returned", 1), ("closed", 6), ("closed_on_time", 5),
            ("excused", 1), ("reworked", 1), ("extended", 1), ("overdue_open", 1), ("supervision_orders", 2),
            ("orders_closed", 1), ("orders_open", 1),
        ];
        for (field, want) in counts {
            assert_eq!(street[field].as_u64(), Some(want), "{field}: {street}");
        }
        let rates = [
            ("closure_rate", 0.6667), ("on_time_closure_rate", 0.8333), ("rework_rate", 0.1667), ("extension_rate", 0.1667),
            ("return_rate", 0.1429),
        ];
        for (field, want) in rates {
            assert_eq!(street[field].as_f64(), Some(want), "{field}: {street}");
        }
        // Stage averages over the six closed, in seconds (minutes from the script × 60):
        // accept (60+30+120+10+60+60)/6 min, dispatch (30+30+30+10+0+30)/6, handle from the first
        // dispatch to the last resolve (270+1440+1850+880+340+2790)/6, verify (120+60+100+60+60+1440)/6.
        let stages = [("avg_accept_secs", 3400.0), ("avg_dispatch_secs", 1300.0), ("avg_handle_secs", 75700.0), ("avg_verify_secs", 18400.0)];
        for (field, want) in stages {
            assert_eq!(street[field].as_f64(), Some(want), "{field}: {street}");
        }

        // Per handler: Wang was given A B C D E F J in November and returned E, which then counts
        // for Li alone; Wang closed A B C D and I.
        let (_, b) = app.get(&format!("/api/v1/evaluation?by=handler&{NOVEMBER}"), &p.district).await;
        let wang = unit(&b, &app.id_of("wang").await).clone();
        let want = [("dispatched", 7), ("returned", 1), ("reported", 6), ("closed", 5), ("closed_on_time", 4), ("reworked", 1)];
        for (field, n) in want {
            assert_eq!(wang[field].as_u64(), Some(n), "{field}: {wang}");
        }
        assert_eq!((wang["return_rate"].as_f64(), wang["on_time_closure_rate"].as_f64()), (Some(0.1429), Some(0.8)));
        let li = unit(&b, &app.id_of("li.na").await).clone();
        assert_eq!((li["dispatched"].as_u64(), li["returned"].as_u64(), li["closed"].as_u64()), (Some(1), Some(0), Some(1)), "{li}");
        assert_eq!(li["avg_handle_secs"].as_f64(), Some(20400.0));

        // The grid and the city see the same street's events; October is another period.
        let (_, b) = app.get(&format!("/api/v1/evaluation?by=city&{NOVEMBER}"), &p.district).await;
        assert_eq!(unit(&b, "420100")["closed"].as_u64(), Some(6), "{b}");
        let october = "from=2026-10-01T00:00:00%2B08:00&to=2026-11-01T00:00:00%2B08:00";
        let (_, b) = app.get(&format!("/api/v1/evaluation?by=street&{october}"), &p.district).await;
        let street = unit(&b, "420102003");
        assert_eq!((street["reported"].as_u64(), street["accepted"].as_u64(), street["closed"].as_u64()), (Some(1), Some(1), Some(0)), "{street}");
        // A coordinator of the street sees it; nobody sees a street outside their area.
        let (s, b) = app.get(&format!("/api/v1/evaluation?by=street&{NOVEMBER}"), &p.coord).await;
        assert_eq!((s, b["units"].as_array().map(Vec::len)), (200, Some(1)), "{b}");
        let (s, b) = app.get(&format!("/api/v1/evaluation?by=street&area=420102004&{NOVEMBER}"), &p.coord).await;
        assert_eq!((s, b["units"].as_array().map(Vec::len)), (200, Some(0)), "{b}");
        let (s, _) = app.get(&format!("/api/v1/evaluation?by=street&{NOVEMBER}"), &p.wang).await;
        assert_eq!(s, 403);
    }
}

/// A cell of the report's workbook as the API would write it: a number, or null when empty.
fn cell_value(cell: &calamine::Data) -> Value {
    match cell {
        calamine::Data::Float(f) => json!(f),
        calamine::Data::Int(i) => json!(*i as f64),
        calamine::Data::Empty => Value::Null,
        other => panic!("a number or nothing, not {other:?}"),
    }
}

/// The number in a JSON answer, as f64 (counts and rates alike), or null.
fn number(v: &Value) -> Value {
    v.as_f64().map_or(Value::Null, |f| json!(f))
}

async fn download(app: &TestApp, token: &str, url: &str) -> (u16, Vec<u8>, String) {
    let res = app.client.get(app.url(url)).bearer_auth(token).send().await.unwrap();
    let status = res.status().as_u16();
    let kind = res.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    (status, res.bytes().await.unwrap().to_vec(), kind)
}

both_backends! {
    async fn the_weekly_xlsx_report_holds_the_evaluations_numbers(app: TestApp) {
        let p = people(&app).await;
        app.user("other.coord", Role::Coordinator, Some("420102004")).await;
        let other = app.login("other.coord").await;
        play_the_month(&app, &p).await;
        // The scheduler's pass just after midnight on Tuesday 1 December (city time): November
        // and the week of 23 November are over.
        let at = cst(12, 1, 0) + chrono::Duration::minutes(1);
        let produce = || {
            let state = app.state.clone();
            app.db.run(move |conn| gridwork::reports::produce(conn, &state.areas(), at))
        };
        let stored = produce().await.unwrap();
        assert!(stored >= 6, "the city, its districts and streets, weekly and monthly: {stored}");
        assert_eq!(produce().await.unwrap(), 0, "once per area and period");

        let (s, list) = app.get("/api/v1/reports?kind=weekly&area=420102003", &p.district).await;
        assert_eq!(s, 200, "{list}");
        let reports = list["reports"].as_array().unwrap();
        assert_eq!(reports.len(), 1, "{list}");
        let report = &reports[0];
        assert_eq!((report["period_from"].as_str(), report["period_to"].as_str()), (Some("2026-11-22T16:00:00Z"), Some("2026-11-29T16:00:00Z")));
        let (s, bytes, kind) = download(&app, &p.district, report["xlsx_url"].as_str().unwrap()).await;
        assert_eq!((s, kind.as_str()), (200, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"));

        // Opened with a real XLSX reader: one line per unit, every number as the API has it.
        let mut book: calamine::Xlsx<_> = calamine::Reader::new(std::io::Cursor::new(bytes)).unwrap();
        let sheet = calamine::Reader::worksheet_range(&mut book, "考核").unwrap();
        let rows: Vec<Vec<calamine::Data>> = sheet.rows().map(<[calamine::Data]>::to_vec).collect();
        let headings: Vec<String> = rows[0].iter().map(ToString::to_string).collect();
        assert_eq!(headings[..4], ["层级", "单位编码", "单位", "上报"]);
        let week = "from=2026-11-23T00:00:00%2B08:00&to=2026-11-30T00:00:00%2B08:00&area=420102003";
        let mut api_lines = vec![];
        for (by, level) in [("street", "街道"), ("community", "社区"), ("handler", "处置人")] {
            let (s, b) = app.get(&format!("/api/v1/evaluation?by={by}&{week}"), &p.district).await;
            assert_eq!(s, 200, "{b}");
            api_lines.extend(b["units"].as_array().unwrap().iter().map(|u| (level, u.clone())));
        }
        assert_eq!(rows.len() - 1, api_lines.len(), "{rows:?}");
        for (level, unit) in &api_lines {
            let row = rows.iter().find(|r| r[1] == unit["unit"].as_str().unwrap()).unwrap();
            assert_eq!(row[0].to_string(), *level);
            assert_eq!(row[2].to_string(), unit["name"].as_str().unwrap_or(""));
            for (i, (field, ..)) in gridwork::reports::COLUMNS.iter().enumerate() {
                assert_eq!(cell_value(&row[i + 3]), number(&unit[*field]), "{field} of {unit}");
            }
        }
        // By hand, the street's week: F G H J reported, nothing closed, F overdue and supervised.
        let street = &api_lines[0].1;
        let hand = [("reported", 4), ("accepted", 2), ("closed", 0), ("overdue_open", 1), ("supervision_orders", 1), ("orders_open", 1)];
        for (field, want) in hand {
            assert_eq!(street[field].as_u64(), Some(want), "{field}: {street}");
        }
        assert_eq!(street["closure_rate"].as_f64(), Some(0.0));

        // The CSV holds the same lines under the glossary's names.
        let (s, bytes, kind) = download(&app, &p.coord, report["csv_url"].as_str().unwrap()).await;
        assert_eq!((s, kind.as_str()), (200, "text/csv; charset=utf-8"));
        let mut csv = csv::Reader::from_reader(bytes.strip_prefix(b"\xEF\xBB\xBF".as_slice()).unwrap());
        let head: Vec<String> = csv.headers().unwrap().iter().map(str::to_owned).collect();
        assert_eq!(head[..5], ["level", "unit", "name", "reported", "accepted"]);
        let first = csv.records().next().unwrap().unwrap();
        assert_eq!((&first[0], &first[1], &first[3]), ("street", "420102003", "4"));

        // The monthly one matches the scripted month.
        let (_, list) = app.get("/api/v1/reports?kind=monthly&area=420102003", &p.coord).await;
        let monthly = &list["reports"][0];
        assert_eq!(monthly["period_from"], "2026-10-31T16:00:00Z", "{list}");
        let (_, bytes, _) = download(&app, &p.coord, monthly["csv_url"].as_str().unwrap()).await;
        let mut csv = csv::Reader::from_reader(&bytes[3..]);
        let first = csv.records().next().unwrap().unwrap();
        assert_eq!((&first[3], &first[5]), ("9", "6"), "reported and closed in November: {first:?}");

        // Another street's coordinator neither lists nor downloads it; a worker is refused.
        let (_, theirs) = app.get("/api/v1/reports", &other).await;
        let areas: Vec<&str> = theirs["reports"].as_array().unwrap().iter().map(|r| r["area_code"].as_str().unwrap()).collect();
        assert!(!areas.is_empty() && areas.iter().all(|a| *a == "420102004"), "{areas:?}");
        for url in [report["xlsx_url"].as_str().unwrap(), report["csv_url"].as_str().unwrap()] {
            let (s, _, _) = download(&app, &other, url).await;
            assert_eq!(s, 404, "{url}");
            let (s, _, _) = download(&app, &p.wang, url).await;
            assert_eq!(s, 403, "{url}");
        }
        let (s, _) = app.get("/api/v1/reports", &p.wang).await;
        assert_eq!(s, 403);
        let (s, b) = app.get("/api/v1/reports?kind=daily", &p.coord).await;
        assert_eq!((s, b["fields"]["kind"]["code"].as_str()), (422, Some("invalid")), "{b}");
    }
}
