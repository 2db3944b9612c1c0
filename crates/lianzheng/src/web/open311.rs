//! Open311 GeoReport v2 at `/open311/v2/`: `discovery`, `services`, `services/{code}`,
//! `requests` (GET with its filters; POST with an `api_key`), `requests/{id}`, `tokens/{token}`,
//! each in XML (the default) and JSON by the `.xml` / `.json` suffix, with the spec's error
//! bodies (`[{"code":403,"description":"…"}]`, `<errors><error>…`).
//!
//! Complaint categories are the services. Our richer lifecycle maps to strict `open`/`closed`
//! as FixMyStreet does; the rich status is in `status_notes`; `agency_responsible` is the
//! 承办单位; `expected_datetime` is the running working-day deadline. No complainant data is
//! ever in a response.

use std::fmt::Write as _;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use lianzheng_app::complaints::{
    Complainant, ComplaintFilter, ComplaintInput, ComplaintRow, Location,
};
use lianzheng_app::views::CacheKind;
use lianzheng_app::{App, AppError};
use lianzheng_core::codes::Fen;
use lianzheng_core::complaint::{Category, ComplaintChannel, Subject};

use super::AppState;

/// A response format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Xml,
    Json,
}

/// Splits `name.json` / `name.xml` (XML when there is no suffix, as the spec requires XML).
fn split(file: &str) -> Result<(&str, Format), Open311Error> {
    if let Some(n) = file.strip_suffix(".json") {
        Ok((n, Format::Json))
    } else if let Some(n) = file.strip_suffix(".xml") {
        Ok((n, Format::Xml))
    } else if file.contains('.') {
        Err(Open311Error::new(
            404,
            Format::Xml,
            "不支持的格式，请使用 .xml 或 .json (unsupported format: use .xml or .json)",
        ))
    } else {
        Ok((file, Format::Xml))
    }
}

/// A value in the order the spec prints it, rendered as JSON or XML.
#[derive(Debug, Clone)]
enum Node {
    Null,
    Str(String),
    Raw(String),
    Obj(Vec<(&'static str, Node)>),
    List(&'static str, Vec<Node>),
}

fn s(v: impl Into<String>) -> Node {
    Node::Str(v.into())
}

fn opt(v: Option<impl Into<String>>) -> Node {
    v.map_or(Node::Null, |x| Node::Str(x.into()))
}

fn num(v: Option<f64>) -> Node {
    v.map_or(Node::Null, |x| Node::Raw(x.to_string()))
}

fn json(n: &Node, out: &mut String) {
    match n {
        Node::Null => out.push_str("null"),
        Node::Str(v) => out.push_str(&serde_json::Value::String(v.clone()).to_string()),
        Node::Raw(v) => out.push_str(v),
        Node::Obj(fields) => {
            out.push('{');
            for (i, (k, v)) in fields.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                let _ = write!(out, "\"{k}\":");
                json(v, out);
            }
            out.push('}');
        }
        Node::List(_, items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json(v, out);
            }
            out.push(']');
        }
    }
}

fn escape(v: &str, out: &mut String) {
    for c in v.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Characters XML 1.0 cannot carry are dropped.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
}

fn xml(name: &str, n: &Node, out: &mut String) {
    let _ = write!(out, "<{name}>");
    match n {
        Node::Null => {}
        Node::Str(v) | Node::Raw(v) => escape(v, out),
        Node::Obj(fields) => {
            for (k, v) in fields {
                xml(k, v, out);
            }
        }
        Node::List(item, items) => {
            for v in items {
                xml(item, v, out);
            }
        }
    }
    let _ = write!(out, "</{name}>");
}

fn render(status: StatusCode, format: Format, root: &str, n: &Node) -> Response {
    respond(status, format, render_body(format, root, n))
}

/// The document `n` under `root` in `format`.
fn render_body(format: Format, root: &str, n: &Node) -> String {
    let mut out = String::new();
    match format {
        Format::Json => json(n, &mut out),
        Format::Xml => {
            out.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
            xml(root, n, &mut out);
        }
    }
    out
}

/// A rendered document with its content type.
fn respond(status: StatusCode, format: Format, body: impl Into<axum::body::Body>) -> Response {
    let content_type = match format {
        Format::Json => "application/json; charset=utf-8",
        Format::Xml => "text/xml; charset=utf-8",
    };
    (status, [(header::CONTENT_TYPE, content_type)], body.into()).into_response()
}

/// An error in the spec's format: 404 unknown, 403 bad key, 400 anything else.
#[derive(Debug)]
pub struct Open311Error {
    code: u16,
    format: Format,
    description: String,
}

impl Open311Error {
    fn new(code: u16, format: Format, description: impl Into<String>) -> Open311Error {
        Open311Error {
            code,
            format,
            description: description.into(),
        }
    }

    /// 404: no such part of the API.
    fn no_path(format: Format, name: &str) -> Open311Error {
        Open311Error::new(
            404,
            format,
            format!("`{name}` 不存在 (`{name}` does not exist)"),
        )
    }

    /// 404: a service code that is not one of the complaint categories.
    fn no_service(format: Format, code: &str) -> Open311Error {
        Open311Error::new(
            404,
            format,
            format!("服务 `{code}` 不存在 (no service `{code}`)"),
        )
    }

    /// 400: a required parameter is missing.
    fn missing(format: Format, param: &str) -> Open311Error {
        Open311Error::new(400, format, format!("缺少 {param} ({param} is required)"))
    }

    fn app(e: AppError, format: Format) -> Open311Error {
        let code = match e.code() {
            "not_found" => 404,
            "forbidden" => 403,
            "invalid_input" | "conflict" => 400,
            "storage_unavailable" => 503,
            _ => 500,
        };
        let description = if code >= 500 {
            tracing::error!(error = %e, "open311");
            "服务暂不可用，请稍后重试 (service unavailable: try again later)".to_string()
        } else {
            e.to_string()
        };
        Open311Error::new(code, format, description)
    }
}

impl IntoResponse for Open311Error {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.code).unwrap_or(StatusCode::BAD_REQUEST);
        let body = Node::List(
            "error",
            vec![Node::Obj(vec![
                ("code", Node::Raw(self.code.to_string())),
                ("description", s(self.description)),
            ])],
        );
        render(status, self.format, "errors", &body)
    }
}

type Result311 = Result<Response, Open311Error>;

async fn run<T: Send + 'static>(
    st: &AppState,
    format: Format,
    f: impl FnOnce(&lianzheng_app::App) -> Result<T, AppError> + Send + 'static,
) -> Result<T, Open311Error> {
    let app = std::sync::Arc::clone(&st.app);
    tokio::task::spawn_blocking(move || f(&app))
        .await
        .map_err(|_| Open311Error::new(500, format, "内部错误 (internal error)"))?
        .map_err(|e| Open311Error::app(e, format))
}

/// `GET /open311/v2/{discovery|services|requests}.{fmt}`.
pub async fn get_root(
    State(st): State<AppState>,
    Path(file): Path<String>,
    Query(q): Query<Vec<(String, String)>>,
    headers: HeaderMap,
) -> Result311 {
    let (name, format) = split(&file)?;
    match name {
        "discovery" => Ok(discovery(format, &headers)),
        "services" => Ok(services(format)),
        "requests" => requests(st, format, q).await,
        _ => Err(Open311Error::no_path(format, name)),
    }
}

/// `POST /open311/v2/requests.{fmt}`: files a complaint; needs an `api_key`.
pub async fn post_root(
    State(st): State<AppState>,
    Path(file): Path<String>,
    body: Bytes,
) -> Result311 {
    let (name, format) = split(&file)?;
    if name != "requests" {
        return Err(Open311Error::no_path(format, name));
    }
    let form = parse_form(&body);
    let get = |k: &str| {
        form.iter()
            .find(|(n, v)| n == k && !v.trim().is_empty())
            .map(|(_, v)| v.trim().to_string())
    };
    let Some(key) = get("api_key") else {
        return Err(Open311Error::new(
            403,
            format,
            "缺少 api_key (api_key is required)",
        ));
    };
    let principal = run(&st, format, move |app| app.authenticate_key(&key))
        .await?
        .ok_or_else(|| Open311Error::new(403, format, "api_key 无效 (invalid api_key)"))?;
    let code = get("service_code").ok_or_else(|| Open311Error::missing(format, "service_code"))?;
    let category = Category::parse(&code).map_err(|_| Open311Error::no_service(format, &code))?;
    let department = get("attribute[department]").ok_or_else(|| {
        Open311Error::new(
            400,
            format,
            "缺少必填属性 attribute[department] (attribute[department] is required)",
        )
    })?;
    let description =
        get("description").ok_or_else(|| Open311Error::missing(format, "description"))?;
    if description.chars().count() > 4000 {
        return Err(Open311Error::new(
            400,
            format,
            "description 不能超过4000字 (description is at most 4000 characters)",
        ));
    }
    let coord = |k: &str| -> Result<Option<f64>, Open311Error> {
        get(k)
            .map(|v| {
                v.parse::<f64>().map_err(|_| {
                    Open311Error::new(
                        400,
                        format,
                        format!("`{k}` 不是数字 (`{k}` is not a number)"),
                    )
                })
            })
            .transpose()
    };
    let (lat, long) = (coord("lat")?, coord("long")?);
    let subject = match (
        get("attribute[item_code]"),
        get("attribute[fee_code]"),
        get("attribute[amount_fen]"),
    ) {
        (Some(item_code), Some(fee_code), Some(amount)) => Subject::Fee {
            item_code,
            fee_code,
            amount_fen: Fen(amount.parse().map_err(|_| {
                Open311Error::new(400, format, "attribute[amount_fen] 须为整数（分） (attribute[amount_fen] must be a whole number of fen)")
            })?),
        },
        _ => match get("attribute[staff]") {
            Some(staff) => Subject::Person { staff },
            None => Subject::Department,
        },
    };
    let name = [get("last_name"), get("first_name")]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join("");
    let complainant = (!name.is_empty()).then(|| Complainant {
        name,
        phone: get("phone").unwrap_or_default(),
        id_no: String::new(),
        contact: get("email").unwrap_or_default(),
    });
    let input = ComplaintInput {
        category,
        channel: ComplaintChannel::Open311,
        department,
        subject,
        title: None,
        content: description,
        complainant,
        location: Location {
            address: get("address_string"),
            lat,
            long,
        },
        media_url: get("media_url"),
    };
    let filed = run(&st, format, move |app| {
        app.file_complaint(&principal, input)
    })
    .await?;
    let notice = format!(
        "投诉已登记，编号{}，查询码{}（请妥善保存，用于查询和评价）；{}前决定是否受理。",
        filed.complaint_no, filed.query_code, filed.accept_due
    );
    let body = Node::List(
        "request",
        vec![Node::Obj(vec![
            ("service_request_id", s(filed.complaint_no)),
            ("service_notice", s(notice)),
            ("account_id", Node::Null),
        ])],
    );
    Ok(render(StatusCode::OK, format, "service_requests", &body))
}

/// `GET /open311/v2/services/{code}.{fmt}`: the service definition.
pub async fn get_service(State(st): State<AppState>, Path(file): Path<String>) -> Result311 {
    let (code, format) = split(&file)?;
    let category = Category::parse(code).map_err(|_| Open311Error::no_service(format, code))?;
    let deps = run(&st, format, |app| app.complaint_departments()).await?;
    let attr = |code: &'static str,
                datatype: &'static str,
                required: bool,
                order: u32,
                description: &'static str,
                values: Vec<Node>| {
        Node::Obj(vec![
            ("variable", Node::Raw("true".into())),
            ("code", s(code)),
            ("datatype", s(datatype)),
            ("required", Node::Raw(required.to_string())),
            ("datatype_description", Node::Null),
            ("order", Node::Raw(order.to_string())),
            ("description", s(description)),
            ("values", Node::List("value", values)),
        ])
    };
    let values = deps
        .into_iter()
        .map(|(k, n)| Node::Obj(vec![("key", s(k)), ("name", s(n))]))
        .collect();
    let mut attributes = vec![attr(
        "department",
        "singlevaluelist",
        true,
        1,
        "被投诉单位",
        values,
    )];
    match category {
        Category::Fee => {
            attributes.push(attr(
                "item_code",
                "string",
                false,
                2,
                "事项实施编码",
                vec![],
            ));
            attributes.push(attr(
                "fee_code",
                "string",
                false,
                3,
                "收费项目编码或名称",
                vec![],
            ));
            attributes.push(attr(
                "amount_fen",
                "number",
                false,
                4,
                "实收金额（分）",
                vec![],
            ));
        }
        _ => attributes.push(attr(
            "staff",
            "string",
            false,
            2,
            "工作人员姓名或工号",
            vec![],
        )),
    }
    let body = Node::Obj(vec![
        ("service_code", s(category.code())),
        ("attributes", Node::List("attribute", attributes)),
    ]);
    Ok(render(StatusCode::OK, format, "service_definition", &body))
}

/// `GET /open311/v2/requests/{id}.{fmt}`.
pub async fn get_request(State(st): State<AppState>, Path(file): Path<String>) -> Result311 {
    let (id, format) = split(&file)?;
    let filter = ComplaintFilter {
        ids: Some(id.to_string()),
        ..ComplaintFilter::default()
    };
    let id = id.to_string();
    let rows = run(&st, format, move |app| app.public_complaints(&filter)).await?;
    if rows.is_empty() {
        return Err(Open311Error::new(
            404,
            format,
            format!("请求 `{id}` 不存在 (no request `{id}`)"),
        ));
    }
    Ok(render(
        StatusCode::OK,
        format,
        "service_requests",
        &Node::List("request", rows.iter().map(request_node).collect()),
    ))
}

/// `GET /open311/v2/tokens/{token}.{fmt}`.
pub async fn get_token(State(st): State<AppState>, Path(file): Path<String>) -> Result311 {
    let (token, format) = split(&file)?;
    let t = token.to_string();
    let no = run(&st, format, move |app| app.complaint_by_token(&t))
        .await?
        .ok_or_else(|| {
            Open311Error::new(
                404,
                format,
                format!("token `{token}` 不存在 (no token `{token}`)"),
            )
        })?;
    let body = Node::List(
        "request",
        vec![Node::Obj(vec![
            ("service_request_id", s(no)),
            ("token", s(token)),
        ])],
    );
    Ok(render(StatusCode::OK, format, "service_requests", &body))
}

fn discovery(format: Format, headers: &HeaderMap) -> Response {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            h.chars()
                .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
        })
        .unwrap_or("localhost");
    let endpoint = Node::Obj(vec![
        ("specification", s("http://wiki.open311.org/GeoReport_v2")),
        ("url", s(format!("http://{host}/open311/v2"))),
        ("changeset", s("2026-03-01 00:00")),
        ("type", s("production")),
        (
            "formats",
            Node::List("format", vec![s("text/xml"), s("application/json")]),
        ),
    ]);
    let body = Node::Obj(vec![
        ("changeset", s("2026-03-01 00:00")),
        (
            "contact",
            s(
                "政风行风热线：请致电12345或登录门户网站投诉（api_key 由管理员以 `lianzheng apikey create` 签发）",
            ),
        ),
        ("key_service", s("api_key 请向市行政审批局申请")),
        ("endpoints", Node::List("endpoint", vec![endpoint])),
    ]);
    render(StatusCode::OK, format, "discovery", &body)
}

fn services(format: Format) -> Response {
    let items = Category::ALL
        .iter()
        .map(|c| {
            Node::Obj(vec![
                ("service_code", s(c.code())),
                ("service_name", s(c.label_zh())),
                ("description", s(c.description_zh())),
                ("metadata", Node::Raw("true".into())),
                ("type", s("realtime")),
                ("keywords", s(format!("投诉, {}", c.label_zh()))),
                ("group", s("政风行风")),
            ])
        })
        .collect();
    render(
        StatusCode::OK,
        format,
        "services",
        &Node::List("service", items),
    )
}

fn request_node(r: &ComplaintRow) -> Node {
    let closed = matches!(r.status.as_str(), "declined" | "answered" | "closed");
    Node::Obj(vec![
        ("service_request_id", s(r.complaint_no.clone())),
        ("status", s(if closed { "closed" } else { "open" })),
        ("status_notes", s(r.status_zh.clone())),
        ("service_name", s(r.category_zh.clone())),
        ("service_code", s(r.category.clone())),
        ("description", s(r.title.clone())),
        ("agency_responsible", opt(r.assigned_name.clone())),
        ("service_notice", Node::Null),
        ("requested_datetime", s(r.filed_at.clone())),
        ("updated_datetime", s(r.updated_at.clone())),
        (
            "expected_datetime",
            if closed {
                Node::Null
            } else {
                opt(r.due_at.clone())
            },
        ),
        ("address", opt(r.address.clone())),
        ("address_id", Node::Null),
        ("zipcode", Node::Null),
        ("lat", num(r.lat)),
        ("long", num(r.long)),
        ("media_url", opt(r.media_url.clone())),
    ])
}

/// The cached lists of `GET requests`: one key per normalised filter, at most 64 kept (the
/// least recently used goes first), so a crawler cannot fill memory with its filters.
const REQUESTS_CACHE: CacheKind = CacheKind {
    name: "open311_requests",
    capacity: 64,
};

/// How old a list of `GET requests` may be: a new request or a change of status shows within
/// this many seconds. Posting a request is never cached.
pub const REQUESTS_MAX_AGE_SECS: i64 = 10;

/// Longer keys (a long `service_request_id` list) are computed without the cache.
const MAX_KEY: usize = 1024;

/// The filters of `GET requests`, normalised: the same list has one key however it was asked
/// for (order, repetition, a service by its label, the spelling of an instant, parameters the
/// list does not depend on).
#[derive(Debug, Clone, PartialEq, Eq)]
enum ListQuery {
    /// `service_request_id`: these numbers, whatever the other filters say.
    Ids(Vec<String>),
    /// The other filters.
    Filters {
        /// Service (category) codes, sorted.
        categories: Vec<&'static str>,
        /// `open` and/or `closed`, sorted.
        statuses: Vec<String>,
        /// Filed within; `None` for the default, the 90 days before the list is computed.
        window: Option<(Timestamp, Timestamp)>,
    },
}

impl ListQuery {
    /// The cache key: everything the list depends on but the time.
    fn key(&self) -> String {
        match self {
            ListQuery::Ids(ids) => format!("ids {}", ids.join(",")),
            ListQuery::Filters {
                categories,
                statuses,
                window,
            } => {
                let window =
                    window.map_or_else(|| "recent".to_string(), |(s, e)| format!("{s}/{e}"));
                format!(
                    "service_code={} status={} {window}",
                    categories.join(","),
                    statuses.join(",")
                )
            }
        }
    }

    /// The complaints filter at `now`.
    fn filter(&self, now: Timestamp) -> ComplaintFilter {
        let mut filter = ComplaintFilter {
            limit: Some(1000),
            ..ComplaintFilter::default()
        };
        match self {
            ListQuery::Ids(ids) => filter.ids = Some(ids.join(",")),
            ListQuery::Filters {
                categories,
                statuses,
                window,
            } => {
                filter.category = (!categories.is_empty()).then(|| categories.join(","));
                filter.status = (!statuses.is_empty()).then(|| statuses.join(","));
                let (start, end) = window.unwrap_or((now - ninety_days(), now));
                filter.start = Some(start);
                filter.end = Some(end);
            }
        }
        filter
    }
}

fn ninety_days() -> jiff::SignedDuration {
    jiff::SignedDuration::from_hours(24 * 90)
}

/// Comma-separated values, trimmed, without empty ones, sorted, each once.
fn values(v: &str) -> Vec<&str> {
    let mut out: Vec<&str> = v
        .split(',')
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// Checks and normalises the query of `GET requests`.
fn list_query(q: &[(String, String)], format: Format) -> Result<ListQuery, Open311Error> {
    let get = |k: &str| {
        q.iter()
            .find(|(n, v)| n == k && !v.trim().is_empty())
            .map(|(_, v)| v.trim())
    };
    let date = |k: &str| -> Result<Option<Timestamp>, Open311Error> {
        get(k)
            .map(|v| {
                v.parse::<Timestamp>().map_err(|_| {
                    Open311Error::new(400, format, format!("`{k}` 须为带时区的 ISO 8601 时间 (`{k}` must be an ISO 8601 time with its offset)"))
                })
            })
            .transpose()
    };
    if let Some(ids) = get("service_request_id") {
        // The first 200, as the list reads them.
        let mut ids: Vec<String> = ids
            .split(',')
            .map(str::trim)
            .filter(|x| !x.is_empty())
            .take(200)
            .map(str::to_string)
            .collect();
        ids.sort_unstable();
        ids.dedup();
        return Ok(ListQuery::Ids(ids));
    }
    let mut categories = Vec::new();
    for c in get("service_code")
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|c| !c.is_empty())
    {
        let category = Category::parse(c).map_err(|_| Open311Error::no_service(format, c))?;
        categories.push(category.code());
    }
    categories.sort_unstable();
    categories.dedup();
    let status = get("status").unwrap_or("");
    if !status.is_empty()
        && !status
            .split(',')
            .map(str::trim)
            .all(|x| x == "open" || x == "closed")
    {
        return Err(Open311Error::new(
            400,
            format,
            "status 只能是 open 或 closed (status is open or closed)",
        ));
    }
    let statuses = values(status).into_iter().map(str::to_string).collect();
    let ninety = ninety_days();
    let window = match (date("start_date")?, date("end_date")?) {
        (Some(s), Some(e)) => Some((s, e)),
        (Some(s), None) => Some((s, s + ninety)),
        (None, Some(e)) => Some((e - ninety, e)),
        (None, None) => None,
    };
    if let Some((start, end)) = window {
        if end < start {
            return Err(Open311Error::new(
                400,
                format,
                "end_date 早于 start_date (end_date is before start_date)",
            ));
        }
        if end.duration_since(start) > ninety {
            return Err(Open311Error::new(
                400,
                format,
                "日期范围不得超过90天 (the date range is at most 90 days)",
            ));
        }
    }
    Ok(ListQuery::Filters {
        categories,
        statuses,
        window,
    })
}

/// A list of `GET requests` as cached: the list, and its rendering in each format made once
/// (a list of 1,000 requests is half a megabyte of JSON).
struct RequestList {
    list: Node,
    json: std::sync::OnceLock<Bytes>,
    xml: std::sync::OnceLock<Bytes>,
}

impl RequestList {
    /// The rendering in `format` if it has been made.
    fn rendered(&self, format: Format) -> Option<&Bytes> {
        match format {
            Format::Json => self.json.get(),
            Format::Xml => self.xml.get(),
        }
    }

    /// The rendering in `format`, made now if it has not been.
    fn render(&self, format: Format) -> Bytes {
        let cell = match format {
            Format::Json => &self.json,
            Format::Xml => &self.xml,
        };
        cell.get_or_init(|| Bytes::from(render_body(format, "service_requests", &self.list)))
            .clone()
    }
}

/// `GET requests`: the list of its normalised filters, computed at most once per
/// [`REQUESTS_MAX_AGE_SECS`] for JSON and XML alike, and rendered once per format. A fresh copy
/// already rendered is answered without going to the blocking pool.
async fn requests(st: AppState, format: Format, q: Vec<(String, String)>) -> Result311 {
    let query = list_query(&q, format)?;
    let key = query.key();
    let cacheable = key.len() <= MAX_KEY;
    if cacheable
        && let Some(list) =
            st.app
                .cached_fresh::<RequestList>(REQUESTS_CACHE, &key, REQUESTS_MAX_AGE_SECS)
        && let Some(body) = list.rendered(format)
    {
        return Ok(respond(StatusCode::OK, format, body.clone()));
    }
    let body = run(&st, format, move |app| {
        let compute = |app: &App| {
            let rows = app.public_complaints(&query.filter(app.now()))?;
            Ok(RequestList {
                list: Node::List("request", rows.iter().map(request_node).collect()),
                json: std::sync::OnceLock::new(),
                xml: std::sync::OnceLock::new(),
            })
        };
        let list = if cacheable {
            app.cached(REQUESTS_CACHE, &key, REQUESTS_MAX_AGE_SECS, compute)?
        } else {
            Arc::new(compute(app)?)
        };
        Ok(list.render(format))
    })
    .await?;
    Ok(respond(StatusCode::OK, format, body))
}

/// Decodes `application/x-www-form-urlencoded` (`+` is a space; `%XX` bytes; UTF-8).
fn parse_form(body: &[u8]) -> Vec<(String, String)> {
    fn decode(s: &[u8]) -> String {
        let mut out = Vec::with_capacity(s.len());
        let mut i = 0;
        while i < s.len() {
            match s[i] {
                b'+' => out.push(b' '),
                b'%' if i + 2 < s.len() => {
                    let hex = std::str::from_utf8(&s[i + 1..i + 3]).ok();
                    match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                        Some(b) => {
                            out.push(b);
                            i += 2;
                        }
                        None => out.push(b'%'),
                    }
                }
                b => out.push(b),
            }
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    }
    body.split(|b| *b == b'&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut kv = p.splitn(2, |b| *b == b'=');
            let k = kv.next().unwrap_or_default();
            let v = kv.next().unwrap_or_default();
            (decode(k), decode(v))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn forms_decode() {
        let f =
            super::parse_form(b"a=1+2&attribute%5Bdepartment%5D=SCJG&d=%E6%8A%95%E8%AF%89&e=%&f");
        assert_eq!(f[0], ("a".into(), "1 2".into()));
        assert_eq!(f[1], ("attribute[department]".into(), "SCJG".into()));
        assert_eq!(f[2].1, "投诉");
        assert_eq!(f[3].1, "%");
        assert_eq!(f[4], ("f".into(), String::new()));
    }
}
