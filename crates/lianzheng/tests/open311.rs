//! Open311 GeoReport v2 conformance: our responses have the element and field names and the
//! nesting of the spec's examples (`tests/fixtures/open311/`, CC BY 3.0 Open311 community), in
//! JSON and XML; errors in the spec's format; POST needs a valid `api_key`; the filters of
//! `GET requests`; no complainant data in any response.

use axum::http::StatusCode;
use jiff::Timestamp;
use serde_json::Value;

use crate::{TestApp, each_backend, request, rt};

fn now() -> Timestamp {
    "2026-03-02T10:00:00+08:00".parse().unwrap()
}

fn fixture(name: &str) -> String {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/open311")
        .join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// An XML element: name and children (text ignored).
#[derive(Debug)]
struct El {
    name: String,
    children: Vec<El>,
}

/// A minimal parser of the well-formed XML both sides produce (no attributes, no CDATA).
fn parse_xml(text: &str) -> El {
    let mut stack: Vec<El> = vec![El {
        name: String::new(),
        children: Vec::new(),
    }];
    let mut rest = text;
    while let Some(i) = rest.find('<') {
        rest = &rest[i + 1..];
        let j = rest.find('>').unwrap();
        let tag = &rest[..j];
        rest = &rest[j + 1..];
        if tag.starts_with('?') {
            continue;
        } else if let Some(name) = tag.strip_prefix('/') {
            let el = stack.pop().unwrap();
            assert_eq!(el.name, name.trim(), "mismatched tag");
            stack.last_mut().unwrap().children.push(el);
        } else if let Some(name) = tag.strip_suffix('/') {
            stack.last_mut().unwrap().children.push(El {
                name: name.trim().to_string(),
                children: Vec::new(),
            });
        } else {
            stack.push(El {
                name: tag.trim().to_string(),
                children: Vec::new(),
            });
        }
    }
    assert_eq!(stack.len(), 1, "unclosed elements");
    stack.pop().unwrap().children.pop().unwrap()
}

/// The shape of an element: its name and, merged over same-named children, theirs.
fn xml_shape(el: &El) -> Value {
    let mut kids: std::collections::BTreeMap<String, Value> = Default::default();
    for c in &el.children {
        let s = xml_shape(c);
        let e = kids.entry(c.name.clone()).or_insert(Value::Null);
        *e = merge(e.take(), s);
    }
    serde_json::json!({"name": el.name, "children": kids})
}

/// The shape of a JSON value: keys (merged over array items) and nested shapes.
fn json_shape(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            Value::Object(m.iter().map(|(k, v)| (k.clone(), json_shape(v))).collect())
        }
        Value::Array(items) => {
            let mut acc = Value::Null;
            for i in items {
                acc = merge(acc, json_shape(i));
            }
            serde_json::json!({"[]": acc})
        }
        _ => Value::Null,
    }
}

fn merge(a: Value, b: Value) -> Value {
    match (a, b) {
        (Value::Null, b) => b,
        (a, Value::Null) => a,
        (Value::Object(mut x), Value::Object(y)) => {
            for (k, v) in y {
                let e = x.remove(&k).unwrap_or(Value::Null);
                x.insert(k, merge(e, v));
            }
            Value::Object(x)
        }
        (a, _) => a,
    }
}

fn same_xml(ours: &str, theirs: &str, what: &str) {
    assert!(ours.starts_with("<?xml"), "{what}: {ours}");
    assert_eq!(
        xml_shape(&parse_xml(ours)),
        xml_shape(&parse_xml(theirs)),
        "{what}: XML shape\n{ours}"
    );
}

fn same_json(ours: &str, theirs: &str, what: &str) {
    let (a, b): (Value, Value) = (
        serde_json::from_str(ours).unwrap(),
        serde_json::from_str(theirs).unwrap(),
    );
    assert_eq!(json_shape(&a), json_shape(&b), "{what}: JSON shape\n{ours}");
}

async fn get(t: &TestApp, uri: &str) -> (StatusCode, String) {
    let (s, h, b) = request(t, "GET", uri, &[], None).await;
    let ct = h
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    if uri.contains(".json") {
        assert!(ct.starts_with("application/json"), "{uri}: {ct}");
    } else {
        assert!(ct.starts_with("text/xml"), "{uri}: {ct}");
    }
    (s, b)
}

async fn post(t: &TestApp, uri: &str, form: &str) -> (StatusCode, String) {
    let (s, _, b) = request(
        t,
        "POST",
        uri,
        &[],
        Some((
            "application/x-www-form-urlencoded; charset=utf-8",
            form.to_string(),
        )),
    )
    .await;
    (s, b)
}

const FORM: &str = "jurisdiction_id=jiaozuo&service_code=TD&lat=35.2155&long=113.2418&address_string=%E6%94%BF%E5%8A%A1%E6%9C%8D%E5%8A%A1%E4%B8%AD%E5%BF%83&email=zhang%40example.cn&device_id=tt222111&account_id=123456&first_name=%E4%B8%89%E4%B8%B0&last_name=%E5%BC%A0&phone=13903910000&description=%E7%AA%97%E5%8F%A3%E6%80%81%E5%BA%A6%E6%81%B6%E5%8A%A3&media_url=http%3A%2F%2Fexample.cn%2F1.jpg&attribute[department]=SCJG";

#[test]
fn discovery_services_and_definitions_have_the_spec_shapes() {
    each_backend("open311_shapes", now(), |t| {
        crate::api::seed(&t);
        rt().block_on(async {
            for (uri, fx) in [
                ("/open311/v2/discovery", "discovery"),
                ("/open311/v2/services", "services"),
                ("/open311/v2/services/SF", "service-definition"),
                ("/open311/v2/services/TD", "service-definition"),
            ] {
                let (s, body) = get(&t, &format!("{uri}.xml")).await;
                assert_eq!(s, StatusCode::OK, "{uri}.xml: {body}");
                same_xml(&body, &fixture(&format!("{fx}.xml")), uri);
                let (s, body) = get(&t, &format!("{uri}.json")).await;
                assert_eq!(s, StatusCode::OK, "{uri}.json: {body}");
                same_json(&body, &fixture(&format!("{fx}.json")), uri);
            }
            // XML is the default without a suffix.
            let (s, body) = get(&t, "/open311/v2/services").await;
            assert_eq!(s, StatusCode::OK);
            assert!(body.contains("<service_code>SF</service_code>"));
            let (_, body) = get(&t, "/open311/v2/services.json").await;
            let v: Value = serde_json::from_str(&body).unwrap();
            assert_eq!(v.as_array().unwrap().len(), 6);
            let (_, body) = get(&t, "/open311/v2/services/TD.json").await;
            let v: Value = serde_json::from_str(&body).unwrap();
            assert_eq!(v["attributes"][0]["code"], "department");
            assert_eq!(v["attributes"][0]["values"][0]["key"], "GAJ");
            // Unknown service: 404 in the error format, both ways.
            let (s, body) = get(&t, "/open311/v2/services/NOPE.json").await;
            assert_eq!(s, StatusCode::NOT_FOUND);
            same_json(&body, &fixture("errors.json"), "404 json");
            assert_eq!(
                serde_json::from_str::<Value>(&body).unwrap()[0]["code"],
                404
            );
            let (s, body) = get(&t, "/open311/v2/services/NOPE.xml").await;
            assert_eq!(s, StatusCode::NOT_FOUND);
            same_xml(&body, &fixture("errors.xml"), "404 xml");
            let (s, _) = get(&t, "/open311/v2/nothing.xml").await;
            assert_eq!(s, StatusCode::NOT_FOUND);
        });
    });
}

#[test]
fn requests_are_posted_with_an_api_key_and_queried_with_the_filters() {
    each_backend("open311_requests", now(), |t| {
        crate::api::seed(&t);
        let key = t.app.create_api_key("open311-client", None).unwrap().key;
        rt().block_on(async {
            // Without a key, or with a bad one: 403 in the spec's format.
            let (s, body) = post(&t, "/open311/v2/requests.json", FORM).await;
            assert_eq!(s, StatusCode::FORBIDDEN, "{body}");
            same_json(&body, &fixture("errors.json"), "403 json");
            assert_eq!(serde_json::from_str::<Value>(&body).unwrap()[0]["code"], 403);
            let bad = format!("api_key=lz_{}&{FORM}", "0".repeat(64));
            let (s, body) = post(&t, "/open311/v2/requests.xml", &bad).await;
            assert_eq!(s, StatusCode::FORBIDDEN);
            same_xml(&body, &fixture("errors.xml"), "403 xml");
            // A missing required attribute: 400; an unknown service: 404.
            let (s, body) = post(&t, "/open311/v2/requests.json", &format!("api_key={key}&service_code=TD&description=x")).await;
            assert_eq!(s, StatusCode::BAD_REQUEST, "{body}");
            assert_eq!(serde_json::from_str::<Value>(&body).unwrap()[0]["code"], 400);
            let (s, _) = post(&t, "/open311/v2/requests.json", &format!("api_key={key}&service_code=ZZ&description=x&attribute[department]=SCJG")).await;
            assert_eq!(s, StatusCode::NOT_FOUND);
            // Filed, in JSON and in XML.
            let (s, body) = post(&t, "/open311/v2/requests.json", &format!("api_key={key}&{FORM}")).await;
            assert_eq!(s, StatusCode::OK, "{body}");
            same_json(&body, &fixture("post-service-request-response.json"), "post json");
            let first: Value = serde_json::from_str(&body).unwrap();
            let id1 = first[0]["service_request_id"].as_str().unwrap().to_string();
            assert!(id1.starts_with("TS20260302"));
            assert!(first[0]["service_notice"].as_str().unwrap().contains("查询码"));
            t.clock.set(now() + jiff::SignedDuration::from_hours(1));
            let form2 = FORM.replace("service_code=TD", "service_code=XL");
            let (s, body) = post(&t, "/open311/v2/requests.xml", &format!("api_key={key}&{form2}")).await;
            assert_eq!(s, StatusCode::OK, "{body}");
            same_xml(&body, &fixture("post-service-request-response.xml"), "post xml");
            // One request, both formats; personal data never appears.
            for fmt in ["json", "xml"] {
                let (s, body) = get(&t, &format!("/open311/v2/requests/{id1}.{fmt}")).await;
                assert_eq!(s, StatusCode::OK, "{body}");
                if fmt == "json" {
                    same_json(&body, &fixture("request.json"), "request json");
                    let v: Value = serde_json::from_str(&body).unwrap();
                    assert_eq!(v[0]["status"], "open");
                    assert_eq!(v[0]["status_notes"], "已登记");
                    assert_eq!(v[0]["service_code"], "TD");
                    assert_eq!(v[0]["lat"], 35.2155);
                    assert!(v[0]["expected_datetime"].as_str().unwrap().ends_with("+08:00"));
                } else {
                    same_xml(&body, &fixture("request.xml"), "request xml");
                }
                for secret in ["13903910000", "张三丰", "zhang@example.cn"] {
                    assert!(!body.contains(secret), "{secret} leaked: {body}");
                }
            }
            let (s, body) = get(&t, "/open311/v2/requests/TS0.json").await;
            assert_eq!(s, StatusCode::NOT_FOUND);
            same_json(&body, &fixture("errors.json"), "404 request");
            // The list and its filters.
            let ids = |body: &str| -> Vec<String> {
                let v: Value = serde_json::from_str(body).unwrap();
                v.as_array().unwrap().iter().map(|r| r["service_request_id"].as_str().unwrap().to_string()).collect()
            };
            let (s, body) = get(&t, "/open311/v2/requests.json").await;
            assert_eq!(s, StatusCode::OK);
            same_json(&body, &fixture("requests.json"), "requests json");
            assert_eq!(ids(&body).len(), 2);
            let (_, body) = get(&t, "/open311/v2/requests.xml").await;
            same_xml(&body, &fixture("requests.xml"), "requests xml");
            let (_, body) = get(&t, "/open311/v2/requests.json?service_code=XL").await;
            assert_eq!(ids(&body).len(), 1);
            let (_, body) = get(&t, &format!("/open311/v2/requests.json?service_request_id={id1}&service_code=XL")).await;
            assert_eq!(ids(&body), vec![id1.clone()], "service_request_id overrides the rest");
            let (_, body) = get(&t, "/open311/v2/requests.json?status=closed").await;
            assert!(ids(&body).is_empty());
            let (_, body) = get(&t, "/open311/v2/requests.json?status=open&jurisdiction_id=&service_code=").await;
            assert_eq!(ids(&body).len(), 2, "empty parameters are absent ones");
            let (_, body) = get(&t, "/open311/v2/requests.json?start_date=2026-03-02T10:30:00%2B08:00&end_date=2026-03-03T00:00:00%2B08:00").await;
            assert_eq!(ids(&body).len(), 1);
            let (s, body) = get(&t, "/open311/v2/requests.json?start_date=2025-01-01T00:00:00Z&end_date=2026-03-03T00:00:00Z").await;
            assert_eq!(s, StatusCode::BAD_REQUEST, "more than 90 days: {body}");
            let (s, _) = get(&t, "/open311/v2/requests.json?status=pending").await;
            assert_eq!(s, StatusCode::BAD_REQUEST);
            let (s, _) = get(&t, "/open311/v2/requests.json?start_date=yesterday").await;
            assert_eq!(s, StatusCode::BAD_REQUEST);
            // Tokens.
            let sync = |f: &dyn Fn()| tokio::task::block_in_place(f);
            let token = tokio::task::block_in_place(|| {
                t.app.public_complaints(&lianzheng_app::complaints::ComplaintFilter::default())
            })
                .unwrap()
                .into_iter()
                .find(|r| r.complaint_no == id1)
                .unwrap()
                .token;
            let (s, body) = get(&t, &format!("/open311/v2/tokens/{token}.json")).await;
            assert_eq!(s, StatusCode::OK);
            same_json(&body, &fixture("token.json"), "token json");
            let (_, body) = get(&t, &format!("/open311/v2/tokens/{token}.xml")).await;
            same_xml(&body, &fixture("token.xml"), "token xml");
            let (s, _) = get(&t, "/open311/v2/tokens/999.json").await;
            assert_eq!(s, StatusCode::NOT_FOUND);
            // Handled and answered: strict `closed`, the rich status in the notes, the agency.
            let sup = lianzheng_app::Principal::Supervisor { name: "jcj".into() };
            use lianzheng_app::complaints::ComplaintAction as A;
            sync(&|| {
                t.app.act_on_complaint(&sup, &id1, A::Triage { department: Some("SCJG".into()), route: Some(lianzheng_core::complaint::Route::Responsible) }).unwrap();
            });
            let (_, body) = get(&t, &format!("/open311/v2/requests/{id1}.json")).await;
            let v: Value = serde_json::from_str(&body).unwrap();
            assert_eq!((v[0]["status"].as_str(), v[0]["status_notes"].as_str()), (Some("open"), Some("已转办")));
            assert_eq!(v[0]["agency_responsible"], "焦作市SCJG");
            sync(&|| {
                t.app.act_on_complaint(&sup, &id1, A::Accept).unwrap();
                t.app.act_on_complaint(&sup, &id1, A::Answer { text: "已处理".into(), outcome: lianzheng_core::complaint::Finding::Sustained }).unwrap();
            });
            let (_, body) = get(&t, &format!("/open311/v2/requests/{id1}.xml")).await;
            assert!(body.contains("<status>closed</status>") && body.contains("<status_notes>已答复</status_notes>"), "{body}");
            assert!(body.contains("<expected_datetime></expected_datetime>"));
            sync(&|| assert!(t.app.audit(None).unwrap().is_clean()));
        });
    });
}

#[test]
fn the_request_list_is_cached_for_ten_seconds_per_filter_and_posts_are_not() {
    each_backend("open311_cache", now(), |t| {
        crate::api::seed(&t);
        let key = t.app.create_api_key("open311-client", None).unwrap().key;
        let secs = |s: i64| now() + jiff::SignedDuration::from_secs(s);
        rt().block_on(async {
            let ids = |body: &str| -> Vec<String> {
                let v: Value = serde_json::from_str(body).unwrap();
                v.as_array().unwrap().iter().map(|r| r["service_request_id"].as_str().unwrap().to_string()).collect()
            };
            let filed = |body: &str| -> String {
                let v: Value = serde_json::from_str(body).unwrap();
                v[0]["service_request_id"].as_str().unwrap().to_string()
            };
            let (s, body) = post(&t, "/open311/v2/requests.json", &format!("api_key={key}&{FORM}")).await;
            assert_eq!(s, StatusCode::OK, "{body}");
            let id1 = filed(&body);
            // The cached list is the computed one: the last 90 days, newest first, every field.
            let (s, list) = get(&t, "/open311/v2/requests.json").await;
            assert_eq!(s, StatusCode::OK);
            let direct = crate::sync(|| {
                t.app.public_complaints(&lianzheng_app::complaints::ComplaintFilter {
                    start: Some(now() - jiff::SignedDuration::from_hours(24 * 90)),
                    end: Some(now()),
                    limit: Some(1000),
                    ..Default::default()
                })
            })
            .unwrap();
            let v: Value = serde_json::from_str(&list).unwrap();
            assert_eq!(v.as_array().unwrap().len(), direct.len());
            for (r, d) in v.as_array().unwrap().iter().zip(&direct) {
                assert_eq!(r["service_request_id"], d.complaint_no.as_str());
                assert_eq!(r["status_notes"], d.status_zh.as_str());
                assert_eq!(r["description"], d.title.as_str());
                assert_eq!(r["updated_datetime"], d.updated_at.as_str());
            }
            assert_eq!(ids(&list), vec![id1.clone()]);
            // A second request is filed at once (posts are never cached) ...
            t.clock.set(secs(1));
            let form2 = FORM.replace("service_code=TD", "service_code=XL");
            let (s, body) = post(&t, "/open311/v2/requests.json", &format!("api_key={key}&{form2}")).await;
            assert_eq!(s, StatusCode::OK, "{body}");
            let id2 = filed(&body);
            let (_, one) = get(&t, &format!("/open311/v2/requests/{id2}.json")).await;
            assert_eq!(ids(&one), vec![id2.clone()]);
            // ... but the default list, JSON and XML alike, shows it only after 10 s.
            t.clock.set(secs(9));
            let (_, list) = get(&t, "/open311/v2/requests.json").await;
            assert_eq!(ids(&list), vec![id1.clone()]);
            let (_, xml) = get(&t, "/open311/v2/requests.xml").await;
            assert!(xml.contains(&id1) && !xml.contains(&id2), "{xml}");
            // The same filters however spelled are one key; other filters have their own.
            let (_, list) = get(&t, "/open311/v2/requests.json?jurisdiction_id=jz&status=").await;
            assert_eq!(ids(&list), vec![id1.clone()], "ignored parameters share the default key");
            let (_, list) = get(&t, "/open311/v2/requests.json?service_code=XL").await;
            assert_eq!(ids(&list), vec![id2.clone()]);
            let (_, list) = get(&t, "/open311/v2/requests.json?service_code=TD,XL,TD&status=open").await;
            assert_eq!(ids(&list), vec![id2.clone(), id1.clone()]);
            // A status change shows within the expiry too.
            let sup = lianzheng_app::Principal::Supervisor { name: "jcj".into() };
            use lianzheng_app::complaints::ComplaintAction as A;
            crate::sync(|| {
                t.app.act_on_complaint(&sup, &id1, A::Triage { department: Some("SCJG".into()), route: Some(lianzheng_core::complaint::Route::Responsible) }).unwrap();
                t.app.act_on_complaint(&sup, &id1, A::Accept).unwrap();
                t.app.act_on_complaint(&sup, &id1, A::Answer { text: "已处理".into(), outcome: lianzheng_core::complaint::Finding::Sustained }).unwrap();
            });
            let (_, list) = get(&t, "/open311/v2/requests.json?status=open&service_code=XL,TD").await;
            assert_eq!(ids(&list), vec![id2.clone(), id1.clone()], "still the cached copy");
            t.clock.set(secs(10));
            let (_, list) = get(&t, "/open311/v2/requests.json").await;
            assert_eq!(ids(&list), vec![id2.clone(), id1.clone()]);
            let v: Value = serde_json::from_str(&list).unwrap();
            assert_eq!((v[1]["status"].as_str(), v[1]["status_notes"].as_str()), (Some("closed"), Some("已答复")));
            // The XML of the same list is rendered from it, not from the JSON.
            let (s, xml) = get(&t, "/open311/v2/requests.xml").await;
            assert_eq!(s, StatusCode::OK);
            assert!(xml.starts_with("<?xml") && xml.contains("<status>closed</status>"), "{xml}");
            // Each key expires 10 s after its own computation (this one at 9 s).
            t.clock.set(secs(18));
            let (_, list) = get(&t, "/open311/v2/requests.json?status=open&service_code=TD,XL").await;
            assert_eq!(ids(&list), vec![id2.clone(), id1.clone()]);
            t.clock.set(secs(19));
            let (_, list) = get(&t, "/open311/v2/requests.json?status=open&service_code=TD,XL").await;
            assert_eq!(ids(&list), vec![id2.clone()]);
            // Errors are not cached and the checks still apply.
            let (s, _) = get(&t, "/open311/v2/requests.json?status=pending").await;
            assert_eq!(s, StatusCode::BAD_REQUEST);
            let (s, _) = get(&t, "/open311/v2/requests.json?service_code=ZZ").await;
            assert_eq!(s, StatusCode::NOT_FOUND);
            // A crawler's windows stay within the bound; the default list is still right.
            for i in 0..100 {
                let (s, _) = get(&t, &format!("/open311/v2/requests.json?start_date=2026-01-01T00:00:{:02}%2B08:00&end_date=2026-03-03T00:00:00%2B08:00&n={i}", i % 60)).await;
                assert_eq!(s, StatusCode::OK);
                let (s, _) = get(&t, &format!("/open311/v2/requests.xml?end_date=2026-03-02T{:02}:{:02}:00%2B08:00", i / 60, i % 60)).await;
                assert_eq!(s, StatusCode::OK);
            }
            assert!(crate::sync(|| t.app.cached_keys("open311_requests")) <= 64);
            let (_, list) = get(&t, "/open311/v2/requests.json").await;
            assert_eq!(ids(&list), vec![id2.clone(), id1.clone()]);
            // No complainant data in any list.
            for secret in ["13903910000", "张三丰", "zhang@example.cn", "三丰"] {
                assert!(!list.contains(secret), "{secret} leaked: {list}");
            }
        });
    });
}
