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

/// The form's fields for `view`, with what `form` chose (empty on first showing).
fn departments(
    ui: &Ui,
    view: &PointRequest,
    form: &HashMap<String, String>,
) -> Vec<DepartmentForm> {
    let chosen = |field: &str| -> u8 {
        form.get(field)
            .and_then(|v| v.parse().ok())
            .filter(|v| (1..=5).contains(v))
            .unwrap_or(0)
    };
    view.departments
        .iter()
        .enumerate()
        .map(|(i, (_, name))| {
            let mut scores: Vec<Score> = INDICATORS
                .iter()
                .enumerate()
                .map(|(j, label)| {
                    let field = format!("d{i}_s{j}");
                    Score::new(ui.t(label), field.clone(), chosen(&field))
                })
                .collect();
            let field = format!("d{i}_overall");
            scores.push(Score::new(ui.t("总体评价"), field.clone(), chosen(&field)));
            let comment_field = format!("d{i}_comment");
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
    let score = |field: String| -> Result<u8, &'static str> {
        form.get(&field)
            .and_then(|v| v.parse::<u8>().ok())
            .filter(|v| (1..=5).contains(v))
            .ok_or("请为每个部门的每一项选择1至5分")
    };
    view.departments
        .iter()
        .enumerate()
        .map(|(i, (code, _))| {
            let scores = INDICATORS
                .iter()
                .enumerate()
                .map(|(j, label)| Ok(((*label).to_string(), score(format!("d{i}_s{j}"))?)))
                .collect::<Result<_, &'static str>>()?;
            let comment = form
                .get(&format!("d{i}_comment"))
                .cloned()
                .unwrap_or_default();
            if comment.chars().count() > 500 {
                return Err("意见建议最多500字");
            }
            Ok(DepartmentRating {
                department: code.clone(),
                scores,
                overall: score(format!("d{i}_overall"))?,
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

/// The page for `request`, or the not-found page when the token does not open it.
async fn page(s: &AppState, ui: Ui, link: Link, shown: Shown) -> Result<Response, WebError> {
    let (r, t) = (link.request.clone(), link.token.clone());
    let view = match blocking(s, move |app| app.point_request(&r, &t)).await {
        Ok(v) => Some(v),
        Err(WebError::NotFound(_)) => None,
        Err(e) => return Err(e),
    };
    let departments = view
        .as_ref()
        .map(|v| departments(&ui, v, &shown.form))
        .unwrap_or_default();
    let status = if view.is_none() {
        StatusCode::NOT_FOUND
    } else {
        shown.status
    };
    Ok(render(
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
    ))
}

/// `GET /monitoring/respond?request=…&token=…`: the answer form.
pub async fn form(
    State(s): State<AppState>,
    ui: Ui,
    Query(link): Query<Link>,
) -> Result<Response, WebError> {
    page(&s, ui, link, Shown::fresh()).await
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
    let (r, t) = (link.request.clone(), link.token.clone());
    let view = match blocking(&s, move |app| app.point_request(&r, &t)).await {
        Ok(v) => v,
        // The page says the request does not exist.
        Err(WebError::NotFound(_)) => return page(&s, ui, link, Shown::fresh()).await,
        Err(e) => return Err(e),
    };
    let answer = match ratings(&view, &form) {
        Ok(a) => a,
        Err(msg) => {
            let shown = Shown::refused(form, ui.t(msg).to_string(), StatusCode::BAD_REQUEST);
            return page(&s, ui, link, shown).await;
        }
    };
    let (r, t) = (link.request.clone(), link.token.clone());
    match blocking(&s, move |app| app.respond_with_token(&r, &t, answer)).await {
        Ok(_) => {
            let shown = Shown {
                done: true,
                ..Shown::fresh()
            };
            page(&s, ui, link, shown).await
        }
        Err(e @ (WebError::Conflict(_) | WebError::BadRequest(_))) => {
            let (status, _, m) = e.parts();
            let msg = format!("{}：{m}", ui.t("评议未提交"));
            page(&s, ui, link, Shown::refused(form, msg, status)).await
        }
        Err(e) => Err(e),
    }
}
