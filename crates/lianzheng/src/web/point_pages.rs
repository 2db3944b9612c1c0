//! The answer page of an enterprise monitoring point (经济发展环境监测点, G4): the link the
//! supervision office hands to the enterprise with its request's token opens a form that rates
//! each department asked on the five indicators and overall, 1 to 5. It works on a phone and
//! without JavaScript. Whoever holds the token may answer once; a wrong token answers exactly like
//! an unknown request. The page says nothing about the point itself.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use lianzheng_app::monitoring::PointRequest;
use lianzheng_core::monitoring::{DepartmentRating, INDICATORS};
use serde::Deserialize;

use super::i18n::Ui;
use super::{AppState, WebError, blocking};

/// One score to choose: its label, the form field and the choices 5 to 1 (whether chosen).
struct Score {
    label: &'static str,
    field: String,
    options: Vec<(u8, bool)>,
}

impl Score {
    fn new(label: &'static str, field: String, chosen: u8) -> Score {
        Score {
            label,
            field,
            options: (1..=5).rev().map(|n| (n, n == chosen)).collect(),
        }
    }
}

/// One department's part of the form.
struct DepartmentForm {
    name: String,
    scores: Vec<Score>,
    comment_field: String,
    comment: String,
}

#[derive(Template)]
#[template(path = "point_respond.html")]
struct RespondPage {
    ui: Ui,
    title: &'static str,
    request: String,
    token: String,
    view: Option<PointRequest>,
    departments: Vec<DepartmentForm>,
    error: String,
    done: bool,
}

/// The request and its token, from the link or the form.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct Link {
    request: String,
    token: String,
}

fn render(page: &RespondPage, status: StatusCode) -> Response {
    match page.render() {
        Ok(html) => {
            let mut res = (status, Html(html)).into_response();
            // The address carries the token: it is not passed on to any other site.
            res.headers_mut().insert(
                header::REFERRER_POLICY,
                HeaderValue::from_static("no-referrer"),
            );
            res
        }
        Err(e) => {
            tracing::error!(error = %e, "rendering a template failed");
            WebError::Internal.into_response()
        }
    }
}

/// The form's field names: department `i`'s score on indicator `j`, its overall score and its
/// comment.
fn score_field(i: usize, j: usize) -> String {
    format!("d{i}_s{j}")
}
fn overall_field(i: usize) -> String {
    format!("d{i}_overall")
}
fn comment_field(i: usize) -> String {
    format!("d{i}_comment")
}

/// The score 1–5 the form holds in `field`.
fn score_in(form: &HashMap<String, String>, field: &str) -> Option<u8> {
    form.get(field)
        .and_then(|v| v.parse().ok())
        .filter(|v| (1..=5).contains(v))
}

/// The form's fields for `view`, with what `form` chose (empty on first showing).
fn departments(
    ui: &Ui,
    view: &PointRequest,
    form: &HashMap<String, String>,
) -> Vec<DepartmentForm> {
    let score = |label: &'static str, field: String| {
        let chosen = score_in(form, &field).unwrap_or(0);
        Score::new(label, field, chosen)
    };
    view.departments
        .iter()
        .enumerate()
        .map(|(i, (_, name))| {
            let mut scores: Vec<Score> = INDICATORS
                .iter()
                .enumerate()
                .map(|(j, label)| score(ui.t(label), score_field(i, j)))
                .collect();
            scores.push(score(ui.t("总体评价"), overall_field(i)));
            let comment_field = comment_field(i);
            DepartmentForm {
                name: name.clone(),
                scores,
                comment: form.get(&comment_field).cloned().unwrap_or_default(),
                comment_field,
            }
        })
        .collect()
}

/// The ratings the form holds, or the first thing missing from it.
fn ratings(
    view: &PointRequest,
    form: &HashMap<String, String>,
) -> Result<Vec<DepartmentRating>, &'static str> {
    let score = |field: String| score_in(form, &field).ok_or("请为每个部门的每一项选择1至5分");
    view.departments
        .iter()
        .enumerate()
        .map(|(i, (code, _))| {
            let scores = INDICATORS
                .iter()
                .enumerate()
                .map(|(j, label)| Ok(((*label).to_string(), score(score_field(i, j))?)))
                .collect::<Result<_, &'static str>>()?;
            let comment = form.get(&comment_field(i)).cloned().unwrap_or_default();
            if comment.chars().count() > 500 {
                return Err("意见建议最多500字");
            }
            Ok(DepartmentRating {
                department: code.clone(),
                scores,
                overall: score(overall_field(i))?,
                comment,
            })
        })
        .collect()
}

/// What the page shows besides the request: the form as filled, why it was refused, or that the
/// answer was taken.
struct Shown {
    form: HashMap<String, String>,
    error: String,
    done: bool,
    status: StatusCode,
}

impl Shown {
    /// The empty form.
    fn fresh() -> Shown {
        Shown {
            form: HashMap::new(),
            error: String::new(),
            done: false,
            status: StatusCode::OK,
        }
    }

    /// The form again, as filled, with why it was not taken.
    fn refused(form: HashMap<String, String>, error: String, status: StatusCode) -> Shown {
        Shown {
            form,
            error,
            done: false,
            status,
        }
    }
}

/// The page for `link`'s request as `view` (loaded by the caller), or the not-found page when
/// the token did not open it.
fn page(ui: Ui, link: Link, view: Option<PointRequest>, shown: Shown) -> Response {
    let departments = view
        .as_ref()
        .map(|v| departments(&ui, v, &shown.form))
        .unwrap_or_default();
    let status = if view.is_none() {
        StatusCode::NOT_FOUND
    } else {
        shown.status
    };
    render(
        &RespondPage {
            title: ui.t("监测点评议"),
            ui,
            request: link.request,
            token: link.token,
            view,
            departments,
            error: shown.error,
            done: shown.done,
        },
        status,
    )
}

/// The request `link` opens, or none when its token does not open it.
async fn load(s: &AppState, link: &Link) -> Result<Option<PointRequest>, WebError> {
    let (r, t) = (link.request.clone(), link.token.clone());
    match blocking(s, move |app| app.point_request(&r, &t)).await {
        Ok(v) => Ok(Some(v)),
        Err(WebError::NotFound(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// `GET /monitoring/respond?request=…&token=…`: the answer form.
pub async fn form(
    State(s): State<AppState>,
    ui: Ui,
    Query(link): Query<Link>,
) -> Result<Response, WebError> {
    let view = load(&s, &link).await?;
    Ok(page(ui, link, view, Shown::fresh()))
}

/// `POST /monitoring/respond`: takes the answer once; anything missing or refused shows the
/// form again with what was chosen and why, and nothing is stored.
pub async fn respond(
    State(s): State<AppState>,
    ui: Ui,
    axum::Form(form): axum::Form<HashMap<String, String>>,
) -> Result<Response, WebError> {
    let link = Link {
        request: form.get("request").cloned().unwrap_or_default(),
        token: form.get("token").cloned().unwrap_or_default(),
    };
    // The page says the request does not exist.
    let Some(view) = load(&s, &link).await? else {
        return Ok(page(ui, link, None, Shown::fresh()));
    };
    let answer = match ratings(&view, &form) {
        Ok(a) => a,
        Err(msg) => {
            let shown = Shown::refused(form, ui.t(msg).to_string(), StatusCode::BAD_REQUEST);
            return Ok(page(ui, link, Some(view), shown));
        }
    };
    let (r, t) = (link.request.clone(), link.token.clone());
    match blocking(&s, move |app| app.respond_with_token(&r, &t, answer)).await {
        Ok(_) => {
            let shown = Shown {
                done: true,
                ..Shown::fresh()
            };
            Ok(page(ui, link, Some(view), shown))
        }
        Err(e @ (WebError::Conflict(_) | WebError::BadRequest(_))) => {
            let (status, _, m) = e.parts();
            let msg = format!(
                "{}{}{}",
                ui.t("评议未提交"),
                ui.pick("：", ": "),
                ui.msg(&m)
            );
            Ok(page(
                ui,
                link,
                Some(view),
                Shown::refused(form, msg, status),
            ))
        }
        Err(e) => Err(e),
    }
}
