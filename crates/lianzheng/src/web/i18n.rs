//! The portal's languages: zh-CN by default, English by a visible switch.
//!
//! Pages are written in Chinese; `Ui::t` looks the Chinese text up in [`EN`] when the reader
//! chose English. The choice comes from `?lang=en` (or `?lang=zh`), which [`remember`] keeps in
//! a cookie, so every later page follows it. A test checks that every text a template or page
//! passes to `t` has its English entry. Data (department and item names, legal bases) stays as
//! the source wrote it.

use std::convert::Infallible;

use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

/// The cookie that keeps the reader's language.
pub const LANG_COOKIE: &str = "lz_lang";

/// A page language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    /// 简体中文 (the default).
    #[default]
    Zh,
    /// English.
    En,
}

impl Lang {
    fn parse(s: &str) -> Option<Lang> {
        match s {
            "zh" | "zh-CN" => Some(Lang::Zh),
            "en" => Some(Lang::En),
            _ => None,
        }
    }
}

/// What a page needs to speak the reader's language: the language and the current address (to
/// build the switch link).
#[derive(Debug, Clone, Default)]
pub struct Ui {
    /// The language.
    pub lang: Lang,
    here: String,
}

impl Ui {
    /// A Chinese UI for `path` (for pages built outside a request, such as error pages).
    pub fn zh() -> Ui {
        Ui {
            lang: Lang::Zh,
            here: "/".into(),
        }
    }

    /// The UI of a console response built without the request's address (a refused form
    /// post): the language from the cookie, the switch to the board.
    pub fn from_headers(headers: &HeaderMap) -> Ui {
        let lang = cookie_lang(headers).unwrap_or_default();
        Ui {
            lang,
            here: "/console".into(),
        }
    }

    /// The text in the reader's language.
    pub fn t(&self, zh: &'static str) -> &'static str {
        match self.lang {
            Lang::Zh => zh,
            Lang::En => english(zh).unwrap_or(zh),
        }
    }

    /// A message built at run time (a use case's refusal) in the reader's language. In English:
    /// its English entry if it has one, the English half of a bilingual "中文 (English)" message,
    /// or the message as it is. In Chinese: the Chinese half of a bilingual message, or the
    /// message as it is. A value quoted in backticks (a code, a name) may be Chinese in both
    /// halves. (The JSON API answers the whole message.)
    pub fn msg<'a>(&self, zh: &'a str) -> &'a str {
        if !self.en() {
            return bilingual(zh).map_or(zh, |(zh, _)| zh);
        }
        if let Some(en) = english(zh) {
            return en;
        }
        bilingual(zh).map_or(zh, |(_, en)| en)
    }

    /// Whether the page shows the language switch.
    pub fn has_switch(&self) -> bool {
        !self.here.is_empty()
    }

    /// Whether the page is in English.
    pub fn en(&self) -> bool {
        self.lang == Lang::En
    }

    /// Chooses between a Chinese and an English text built at run time.
    pub fn pick<'a>(&self, zh: &'a str, en: &'a str) -> &'a str {
        if self.en() { en } else { zh }
    }

    /// A domain label standing alone (a table cell, an option): the Chinese one, or the English
    /// one with a capital.
    pub fn label(&self, zh: &str, en: &str) -> String {
        if !self.en() {
            return zh.to_string();
        }
        let mut c = en.chars();
        c.next().map_or_else(String::new, |f| {
            f.to_uppercase().chain(c).collect::<String>()
        })
    }

    /// The `lang` attribute of the page.
    pub fn html_lang(&self) -> &'static str {
        match self.lang {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    /// The link that switches to the other language on the same page.
    pub fn switch_href(&self) -> String {
        let sep = if self.here.contains('?') { '&' } else { '?' };
        let to = match self.lang {
            Lang::Zh => "en",
            Lang::En => "zh",
        };
        format!("{}{sep}lang={to}", self.here)
    }

    /// The switch link's text, in the language it switches to.
    pub fn switch_label(&self) -> &'static str {
        match self.lang {
            Lang::Zh => "English",
            Lang::En => "中文",
        }
    }
}

fn query_lang(query: Option<&str>) -> Option<Lang> {
    query?
        .split('&')
        .find_map(|kv| kv.strip_prefix("lang="))
        .and_then(Lang::parse)
}

fn cookie_lang(headers: &HeaderMap) -> Option<Lang> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|kv| kv.trim().strip_prefix("lz_lang="))
        .and_then(Lang::parse)
}

impl<S: Send + Sync> FromRequestParts<S> for Ui {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Ui, Infallible> {
        let query = parts.uri.query();
        let lang = query_lang(query)
            .or_else(|| cookie_lang(&parts.headers))
            .unwrap_or_default();
        let rest: Vec<&str> = query
            .unwrap_or("")
            .split('&')
            .filter(|kv| !kv.is_empty() && !kv.starts_with("lang="))
            .collect();
        let mut here = parts.uri.path().to_string();
        if !rest.is_empty() {
            here.push('?');
            here.push_str(&rest.join("&"));
        }
        Ok(Ui { lang, here })
    }
}

/// Keeps a `?lang=` choice in a cookie for the following pages.
pub async fn remember(req: Request, next: Next) -> Response {
    let chosen = query_lang(req.uri().query());
    let mut res = next.run(req).await;
    if let Some(lang) = chosen {
        let v = match lang {
            Lang::Zh => "zh",
            Lang::En => "en",
        };
        if let Ok(c) = HeaderValue::from_str(&format!(
            "{LANG_COOKIE}={v}; Path=/; SameSite=Lax; Max-Age=31536000"
        )) {
            res.headers_mut().append(header::SET_COOKIE, c);
        }
    }
    res
}

fn english(zh: &str) -> Option<&'static str> {
    EN.binary_search_by(|(k, _)| (*k).cmp(zh))
        .ok()
        .map(|i| EN[i].1)
}

/// The two halves of a "中文 (English)" message: the English half opens at the first " (" outside
/// a value quoted in backticks, has no Chinese outside such values, and the Chinese half has some.
fn bilingual(msg: &str) -> Option<(&str, &str)> {
    let cjk = |s: &str| {
        s.split('`')
            .step_by(2)
            .any(|part| part.chars().any(|c| c >= '\u{3000}'))
    };
    msg.strip_suffix(')')
        .and_then(|s| {
            s.match_indices(" (")
                .map(|(i, _)| (&s[..i], &s[i + 2..]))
                .find(|(zh, _)| zh.matches('`').count() % 2 == 0)
        })
        .filter(|(zh, en)| cjk(zh) && !cjk(en))
}

/// Chinese → English, sorted by the Chinese text (a test keeps it sorted and complete).
pub static EN: &[(&str, &str)] = &[
    (" 个工作日（", " working days ("),
    (" 元）", " yuan)"),
    (" 家）", ")"),
    (" 已开始", " is open"),
    (
        " 条）。记录号可在日志中核验。",
        "). Record numbers can be checked in the log.",
    ),
    ("30天以上", "Over 30 days"),
    ("3天以上", "Over 3 days"),
    ("7天以上", "Over 7 days"),
    ("API 密钥", "API keys"),
    (
        "“不满意”“非常不满意”的评价，承办部门须在5个工作日内整改答复，答复将在本页显示。",
        "A rating of “dissatisfied” or “very dissatisfied” must be rectified and answered by the department within 5 working days; the answer will appear on this page.",
    ),
    (
        "。下表的令牌只显示这一次，请把各监测点的答题链接（本站地址加上表中路径）分别告知各企业，企业打开链接在线评议。",
        ". The tokens below are shown only this once: send each enterprise its answer link (this site's address followed by the path in the table); the enterprise opens the link and answers online.",
    ),
    (
        "。凭办件编号和查询码可在本平台“办件查询”查看办理进度并在办结后评价。",
        ". With the case number and the query code you can follow the case under “Case query” on this platform and rate it once it is finished.",
    ),
    ("一次性告知书", "One-time notice of missing materials"),
    ("一笔收费", "A fee charged"),
    ("上一页", "Previous page"),
    ("下一页", "Next page"),
    ("下载各部门 CSV", "Download by department (CSV)"),
    ("下载回执", "Download receipt"),
    ("下载投诉统计 CSV", "Download complaint figures (CSV)"),
    (
        "下载监测点评议结果 CSV",
        "Download monitoring results (CSV)",
    ),
    ("下载逐月 CSV", "Download by month (CSV)"),
    ("不予", "Denied"),
    ("不予受理", "Declined"),
    ("不予受理理由", "Reason for declining"),
    ("不收费", "Free"),
    ("不评", "Not rated"),
    ("不限", "Any"),
    ("业务动作", "Action"),
    ("个人信息访问记录", "Personal data access"),
    ("主导航", "Main navigation"),
    ("也可在本站", "or on this site"),
    ("也可离线验证", "Offline"),
    ("乱收费查实", "Illegal fees confirmed"),
    ("事发地点", "Where it happened"),
    ("事发地点（选填）", "Where it happened (optional)"),
    ("事项", "Item"),
    ("事项名称", "Item"),
    ("事项名称关键词", "Keyword in the item name"),
    ("事项未修改：", "The item was not changed:"),
    ("事项目录", "Approval items"),
    ("事项管理", "Items"),
    ("事项类型", "Item type"),
    ("事项：", "Item: "),
    (
        "仅管理员可修改监测点设置",
        "Only administrators may change the monitoring point settings",
    ),
    (
        "仅管理员和监察机关可管理监测点",
        "Only administrators and the supervision office may manage monitoring points",
    ),
    ("令牌", "Token"),
    ("件", "cases"),
    ("企业", "Enterprise"),
    ("企业名称", "Enterprise"),
    (
        "企业名称应为1至100字",
        "The enterprise name must be 1 to 100 characters",
    ),
    ("住宿餐饮", "Hotels and catering"),
    ("依据", "Basis"),
    ("保存为新版本", "Save as a new version"),
    ("保存规则包", "Save the rule pack"),
    ("信息技术", "Information technology"),
    ("修改事项", "Edit item"),
    (
        "修改事项即生成新版本，须注明变更原因和施行日期；已受理的办件仍按受理时的版本办理。",
        "Each change makes a new version, with a reason and the date it comes into force; cases already accepted keep the version they were accepted under.",
    ),
    ("修改事项：", "Edit item: "),
    ("催办次数", "Reminders"),
    ("全市", "Whole city"),
    ("全市数据", "City figures"),
    ("全部", "All"),
    ("全部月份", "All months"),
    ("全部级别", "All levels"),
    ("全部部门", "All departments"),
    ("公众看到的办事指南", "The guide the public sees"),
    ("公众门户", "Public portal"),
    ("公开与监督", "Open to public supervision"),
    ("公开凭证号", "Public token"),
    ("公开的民主评议页面", "The public appraisal page"),
    ("其他", "Other"),
    ("内容", "Content"),
    (
        "内置2005–2026年国务院办公厅通知；以后年度按法定节日推算并标为“暂定”，载入当年通知后重算在办办件的期限。",
        "The State Council General Office notices for 2005–2026 are built in; later years are computed from the statutory holidays and marked “provisional”, and loading a year's notice recomputes the deadlines of open cases.",
    ),
    ("准予", "Granted"),
    ("分办", "Triage"),
    (
        "分办由监察局或政务服务中心进行",
        "Triage is done by the supervision bureau or the service centre",
    ),
    ("分项评价的取值不正确", "An indicator rating is not valid"),
    ("分项评价（选填）", "Indicators (optional)"),
    ("创建密钥", "Create a key"),
    ("创建时间", "Created"),
    (
        "初始密码（至少10位）",
        "Initial password (at least 10 characters)",
    ),
    ("制造业", "Manufacturing"),
    ("办事便捷度", "Convenience"),
    ("办事指南", "Service guide"),
    (
        "办事指南、材料、时限、收费标准和变更记录",
        "service guides, materials, time limits, fee standards and change history",
    ),
    ("办事指南精确度", "Accuracy of the guide"),
    ("办事效率", "Efficiency"),
    ("办件", "Cases"),
    (
        "办件办结后才能评价。",
        "A case can be rated once it is finished.",
    ),
    ("办件查询", "Case query"),
    ("办件状态数据", "Case state data"),
    ("办件类型", "Case type"),
    ("办件编号", "Case number"),
    (
        "办件编号（投诉某件办件时填写）",
        "Case number (for a complaint about a case)",
    ),
    ("办件详情", "Case"),
    (
        "办件量与按时办结率、满意率",
        "Cases, on-time rate and satisfaction",
    ),
    ("办理中", "Being handled"),
    ("办理中（已延期）", "Being handled (extended)"),
    ("办理环节", "Steps"),
    (
        "办理环节（每行：名称|时限工作日；最后一环为批准）",
        "Steps (one a line: name|working days; the last step is the approval)",
    ),
    ("办理记录", "History"),
    ("办理该办件", "Handle this case"),
    ("办理过程", "Timeline"),
    ("办结", "Finished"),
    ("办结理由", "Reason for closing"),
    ("办结结果", "Result"),
    ("匿名", "Anonymous"),
    ("匿名投诉", "Anonymous complaint"),
    ("升级", "Escalate"),
    ("单位", "Department"),
    ("单位本身", "The department itself"),
    ("原件", "Originals"),
    ("去向", "Route"),
    ("反馈情况（按期限）", "Answers (by deadline)"),
    ("反馈期限", "Answer by"),
    (
        "反馈期限应为1至60个工作日",
        "The answer deadline must be 1 to 60 working days",
    ),
    (
        "反馈期限应为工作日数",
        "The answer deadline must be a number of working days",
    ),
    ("反馈期限（工作日）", "Answer deadline (working days)"),
    ("反馈期限：", "Answer deadline: "),
    ("取消（不再受理新办件）", "Retired (no new cases accepted)"),
    ("受理", "Accept"),
    ("受理办件", "Cases registered"),
    (
        "受理后须在答复期限内答复投诉人。",
        "Once accepted, the complaint must be answered within the answer deadline.",
    ),
    ("受理期限", "Acceptance deadline"),
    ("受理期限：", "Acceptance deadline: "),
    ("受理条件", "Conditions for acceptance"),
    ("受理通知书", "Notice of acceptance"),
    ("变更原因", "Reason for the change"),
    ("变更记录", "Change history"),
    (
        "只有承办单位可以办理此投诉",
        "Only the handling department may handle this complaint",
    ),
    (
        "只有部门人员和系统管理员可以维护事项",
        "Only department staff and administrators may edit items",
    ),
    (
        "只有部门窗口人员可以登记申请",
        "Only a department's window staff can register an application",
    ),
    (
        "只能维护本部门的事项",
        "You may edit only your department's items",
    ),
    ("各期评议结果", "Results by round"),
    (
        "各部门办件、按时办结、满意度和预警情况（每分钟更新）。",
        "Cases, on-time completion, satisfaction and alerts per department (updated every minute).",
    ),
    (
        "各部门受理投诉、按时答复、群众满意和乱收费查实情况，以及经济发展环境监测点企业的评议结果。",
        "Complaints received by each department, answered on time, citizens' satisfaction and illegal fees confirmed, and the ratings given by the enterprise monitoring points.",
    ),
    ("各部门情况", "By department"),
    (
        "各部门投诉办理、满意度和监测点企业评议结果",
        "complaints handled by each department, satisfaction, and the ratings of the enterprise monitoring points",
    ),
    (
        "各部门投诉按时答复率、满意率",
        "Complaints answered on time and satisfaction by department",
    ),
    (
        "各部门投诉按时答复率、满意率图",
        "Chart of complaints answered on time and satisfaction by department",
    ),
    (
        "各部门按时办结率、满意率",
        "On-time rate and satisfaction by department",
    ),
    (
        "各部门按时办结率、满意率、红黄牌，逐月图表和 CSV",
        "on-time rate, satisfaction, red and yellow cards per department, monthly charts and CSV",
    ),
    (
        "各部门按时办结率和满意率图",
        "Chart of the on-time rate and satisfaction by department",
    ),
    ("吊销", "Revoke"),
    ("名称", "Name"),
    ("名称：", "Name: "),
    ("启动特别程序", "Start a special procedure"),
    ("启动理由", "Reason"),
    ("回执内容", "Receipt"),
    ("回执可用以下命令离线验证", "Verify a receipt offline with"),
    ("回执格式不正确", "The receipt is not well-formed"),
    ("回执验证", "Verify a receipt"),
    ("图为最近一期", "The chart shows the latest round"),
    (
        "图表由本站提供的 Apache ECharts 绘制",
        "Charts drawn by Apache ECharts, served by this site",
    ),
    ("在册", "Active"),
    ("在办红牌", "Open red cards"),
    ("在办黄牌", "Open yellow cards"),
    ("在用", "In force"),
    ("处理意见", "Opinion"),
    ("处理结果", "Outcome"),
    ("复印件", "Copies"),
    (
        "如：《行政许可法》第四十二条",
        "e.g. Administrative Licensing Law, art. 42",
    ),
    ("姓名", "Name"),
    (
        "姓名（实名投诉填写）",
        "Name (for a complaint under your name)",
    ),
    ("实名", "Under my name"),
    (
        "实名信息只供承办单位联系核实，不公开，查看记录在案。",
        "Your name and phone are only for the handling department to contact you; they are never published, and every view is recorded.",
    ),
    (
        "实名投诉请填写姓名和联系电话",
        "A complaint under your name needs your name and phone",
    ),
    (
        "实名投诉须填写姓名",
        "A complaint under a name needs the name",
    ),
    ("实收金额（元）", "Amount paid (yuan)"),
    ("实施编码", "Code"),
    ("实施部门", "Department"),
    ("审计人员", "Auditor"),
    ("审计人员只能查阅", "Auditors may only read"),
    ("密码", "Password"),
    (
        "密钥只显示这一次，请立即妥善保存；平台只保存其摘要。",
        "The key is shown only this once: store it safely now. The platform keeps only its digest.",
    ),
    ("密钥已创建", "Key created"),
    (
        "对机关部门及其工作人员的办事效率、服务态度、乱收费、吃拿卡要等问题，可在此投诉。承办单位须在规定期限内受理和答复，您可凭查询码查询进度并评价答复。",
        "Complain here about the efficiency, attitude, illegal fees or misconduct of government departments and their staff. The handling department must accept and answer within the set time limits; with your query code you can follow the complaint and rate the answer.",
    ),
    ("对象", "Subject"),
    ("居民身份证", "Resident identity card"),
    ("工作人员", "A member of staff"),
    ("工作人员姓名或工号", "Staff name or number"),
    (
        "工作人员姓名或工号（投诉工作人员时填写）",
        "Staff name or number (for a complaint about a member of staff)",
    ),
    (
        "工作人员每次查看申请人、投诉人等个人信息都记入不可篡改的记录（最近 ",
        "Every time staff view the personal data of an applicant, a complainant or anyone else, it is written to the tamper-evident record (the latest ",
    ),
    ("工作人员登录", "Staff login"),
    ("工作台", "Console"),
    ("工作台导航", "Console navigation"),
    ("已办结", "Finished"),
    ("已反馈", "Answered"),
    ("已反馈/企业数", "Answered / enterprises"),
    ("已取消", "Withdrawn"),
    ("已吊销 ", "Revoked "),
    ("已开具", "Open for"),
    ("已批准", "approved"),
    (
        "已投诉？查询办理进度",
        "Already complained? Follow your complaint",
    ),
    ("已摘牌", "Withdrawn"),
    ("已整改", "Rectified"),
    ("已答复", "Answered"),
    ("已答复，已评价", "Answered and rated"),
    ("已结束", "Closed"),
    ("平台操作性", "Ease of use"),
    ("年度", "Year"),
    ("年度须为四位数字", "The year must be four digits"),
    ("廉政监督平台", "Integrity supervision platform"),
    ("廉洁自律", "Integrity"),
    (
        "延期审批和办结由监察局进行",
        "Extensions are approved and complaints closed by the supervision bureau",
    ),
    ("延期工作日", "Working days of extension"),
    (
        "延期工作日应为整数",
        "The working days of extension must be a whole number",
    ),
    ("延期：", "Extension: "),
    (
        "延长审批须填写延长的工作日数（1–60）",
        "An extension needs the number of working days added (1–60)",
    ),
    (
        "延长审批（须经批准）",
        "Extension of the approval (must be approved)",
    ),
    (
        "延长工作日（仅延长审批）",
        "Working days added (extensions only)",
    ),
    ("建筑业", "Construction"),
    ("开具时间", "Opened"),
    ("开始", "Opened"),
    ("开始新一期评议", "Open a new round"),
    ("开始评议", "Open the round"),
    ("张", "cards"),
    (
        "录入企业以书面或电话方式提交的评议；每项1至5分，5分最好。",
        "Enter an answer an enterprise gave on paper or by phone; each item from 1 to 5, 5 is best.",
    ),
    ("录入反馈", "Enter the answer"),
    ("录入评议反馈", "Enter a survey answer"),
    ("待分办", "To triage"),
    ("待反馈", "Awaiting an answer"),
    ("待受理", "To accept"),
    ("待批准", "awaiting approval"),
    ("待督办", "To supervise"),
    ("待答复差评", "Bad ratings awaiting an answer"),
    ("必备", "Required"),
    ("总体评价", "Overall"),
    (
        "您申请的事项已于今日受理，办件编号 ",
        "Your application was accepted today. Case number ",
    ),
    ("您的申请（办件编号 ", "Your application (case number "),
    ("意见和建议（选填）", "Comments and suggestions (optional)"),
    ("意见建议", "Comments"),
    ("意见建议最多500字", "Comments are at most 500 characters"),
    ("意见建议（可不填）", "Comments (optional)"),
    ("意见建议（选填）", "Comments (optional)"),
    ("我要投诉", "File a complaint"),
    ("或选择回执文件", "or choose a receipt file"),
    ("房地产", "Real estate"),
    (
        "所属部门（窗口人员、承办人员、部门负责人必填）",
        "Department (required for window clerks, case officers and department heads)",
    ),
    ("手机", "Mobile"),
    ("手机：", "Mobile: "),
    ("打印告知书", "Print the notice"),
    ("批准人", "Approved by"),
    ("批准延期", "Approve the extension"),
    ("批发零售", "Wholesale and retail"),
    ("承办人员", "Case officer"),
    ("承办单位", "Handling department"),
    (
        "承办单位（不选则按去向：政务服务中心、被投诉单位或监察局）",
        "Handling department (none: by the route — the service centre, the department complained about, or the supervision bureau)",
    ),
    ("承办单位：", "Handling department: "),
    ("承诺办结日期", "Promised completion date"),
    ("承诺办结时限", "Promised time limit"),
    ("承诺时限", "Promised limit"),
    ("投诉", "Complaint"),
    ("投诉举报", "Complaints"),
    (
        "投诉人未评价时，由监察局办结。",
        "If the complainant does not rate the answer, the supervision bureau closes the complaint.",
    ),
    ("投诉人：", "Complainant: "),
    ("投诉内容", "Your complaint"),
    ("投诉内容不能为空", "The complaint cannot be empty"),
    (
        "投诉办事效率、服务态度、乱收费等问题",
        "complain about efficiency, attitude, illegal fees and more",
    ),
    ("投诉办理情况", "Complaints handled"),
    ("投诉处理", "Complaint handling"),
    ("投诉对象", "What the complaint is about"),
    ("投诉已受理登记", "Your complaint is registered"),
    ("投诉方式", "Anonymous or under your name"),
    ("投诉查询", "Follow a complaint"),
    ("投诉类别", "Category"),
    ("投诉编号", "Complaint number"),
    ("投诉编号：", "Complaint number: "),
    ("投诉详情", "Complaint"),
    (
        "投诉队列仅供工作人员查看",
        "The complaint queue is for staff only",
    ),
    (
        "按办理期限排列，最急的在前",
        "By deadline, the most urgent first",
    ),
    ("按时办结率", "On-time rate"),
    ("按时受理", "Accepted on time"),
    ("按时答复", "Answered on time"),
    ("按时答复率", "Answered on time"),
    (
        "按时答复率 = 按时答复数 ÷（已答复数 + 超期未答复数）；满意率 = “满意”和“基本满意”数 ÷ 评价数。",
        "Answered on time = answered on time ÷ (answered + overdue unanswered); satisfaction = “satisfied” and “fairly satisfied” ÷ ratings.",
    ),
    ("按转办去向", "By the route"),
    ("排序", "Order"),
    ("提交", "Submit"),
    ("提交反馈", "Submit the answer"),
    ("提交投诉", "Submit the complaint"),
    ("提交评价", "Submit rating"),
    ("提交评议", "Submit the survey"),
    ("提醒", "Notice"),
    ("搜索", "Search"),
    ("摘牌", "Withdraw"),
    ("撤销", "Retire"),
    ("撤销原因", "Reason for retiring"),
    ("撤销日期", "Retired on"),
    ("操作", "Action"),
    ("操作人", "By"),
    ("操作无效", "Invalid action"),
    ("操作未执行", "Nothing was done"),
    ("操作被拒绝", "Action refused"),
    ("收到投诉", "Complaints received"),
    (
        "收取材料（按办事指南核对）",
        "Materials received (check against the service guide)",
    ),
    ("收费", "Fees"),
    ("收费事项实施编码", "Item code of the fee"),
    (
        "收费事项实施编码（投诉收费时填写）",
        "Item code of the fee (for a complaint about a fee)",
    ),
    ("收费依据", "Basis"),
    ("收费初步核查", "Fee check"),
    ("收费标准（元）", "Standard (yuan)"),
    ("收费核查", "Fee check"),
    ("收费核查：", "Fee check: "),
    ("收费规范", "Fees"),
    (
        "收费金额格式不正确（如 120 或 120.50）",
        "The amount is not valid (for example 120 or 120.50)",
    ),
    (
        "收费金额须为正数，最多两位小数（元）",
        "The amount must be positive, with at most two decimals (yuan)",
    ),
    ("收费金额须大于0", "The amount must be more than 0"),
    ("收费项目", "Fee"),
    ("收费项目名称或代码", "Fee name or code"),
    (
        "收费（每行：代码|名称|标准（元）|依据；不收费则留空）",
        "Fees (one a line: code|name|standard (yuan)|basis; empty if free of charge)",
    ),
    ("政策公开", "Openness"),
    ("数量", "Amount"),
    ("整体满意度", "Overall satisfaction"),
    ("整改反馈", "Report rectification"),
    ("整改情况", "What was rectified"),
    ("整改期限", "Answer by"),
    ("整改答复", "Rectification and answer"),
    ("新增用户", "Add a user"),
    ("施行日期", "in force from"),
    (
        "施行日期须为 YYYY-MM-DD",
        "The date in force must be YYYY-MM-DD",
    ),
    ("无。", "None."),
    ("无权操作", "Not allowed"),
    ("无法读取回执", "The receipt could not be read"),
    ("无需提交材料。", "No materials are required."),
    ("日志公钥", "Log public key"),
    ("日志检查点", "log checkpoint"),
    ("时间", "Time"),
    ("时限状态", "Deadline status"),
    ("时限（工作日）", "Limit (working days)"),
    ("是否必备", "Required"),
    ("暂无已公布的评议结果", "No results published yet"),
    ("暂无数据", "No data yet"),
    ("最久在前", "Oldest first"),
    ("最新在前", "Newest first"),
    ("月份", "Month"),
    ("有效", "Valid"),
    ("服务态度", "Attitude"),
    ("期次", "Round"),
    ("期次 ", "Round "),
    (
        "期次（季度如 2026Q3，或月份如 2026-11）",
        "Round (a quarter such as 2026Q3, or a month such as 2026-11)",
    ),
    (
        "期间不计入办理时限，须书面告知申请人。",
        "their duration does not count toward the time limit; the applicant must be told in writing.",
    ),
    ("期限", "Deadline"),
    ("期限 ", "due "),
    (
        "未办结（待分办、待受理、办理中）",
        "Open (to triage, to accept, being handled)",
    ),
    ("未找到", "Not found"),
    (
        "未找到所填的单位或事项，请核对",
        "The department or item given was not found; please check",
    ),
    (
        "未找到所填的单位或事项，请核对后重新提交",
        "The department or item given was not found; please check and submit again",
    ),
    ("未找到该事项", "Item not found"),
    (
        "未找到该办件，或查询码不正确。",
        "No such case, or the query code is wrong.",
    ),
    (
        "未找到该投诉，或查询码不正确。",
        "No such complaint, or the query code is wrong.",
    ),
    (
        "未找到该评议请求，或令牌不正确。请使用监督部门发给您的链接。",
        "No such survey request, or the token is wrong. Please use the link the supervision office sent you.",
    ),
    ("未知的办理动作", "Unknown case action"),
    ("未知的投诉状态", "Unknown complaint status"),
    ("未知的操作", "Unknown action"),
    ("未知的转办去向", "Unknown route"),
    ("未能保存", "Not saved"),
    ("未能记录", "Not recorded"),
    (
        "本事项不收费。任何收费均可向监督电话举报。",
        "This item is free of charge. Report any fee to the supervision phone.",
    ),
    (
        "本办件已评价，每件只能评价一次。",
        "This case has been rated; a case is rated once.",
    ),
    (
        "本市保留并公布的行政审批和公共服务事项，含办事指南、法定和承诺办结时限、收费标准及历次变更。",
        "The approval and public-service items the city retains and publishes, with their service guides, legal and promised time limits, fee standards and every change.",
    ),
    ("本月受理办件", "Cases this month"),
    ("本月按时办结率", "On-time rate this month"),
    ("本月满意率", "Satisfaction this month"),
    (
        "本服务器未配置日志密钥。",
        "This server has no log key configured.",
    ),
    ("本期评议已结束。", "This survey round has ended."),
    ("本次登记触发预警：", "This registration raised alerts: "),
    (
        "本次评议已提交，不能重复评议。",
        "This survey has been answered; it cannot be answered twice.",
    ),
    ("本部门评议结果", "Your department's results"),
    (
        "本页含个人信息，访问已记录。",
        "This page shows personal data; your view is recorded.",
    ),
    (
        "本页含投诉人个人信息，访问已记录。",
        "This page shows the complainant's personal data; your view is recorded.",
    ),
    ("材料名称", "Material"),
    ("来电人", "Caller"),
    ("来电内容", "What the caller said"),
    ("某件办件", "A case"),
    ("查找", "Search"),
    ("查看", "Show"),
    ("查看已公布的评议结果", "See the published survey results"),
    ("查看并分办", "View and triage"),
    ("查询", "Look up"),
    ("查询其他投诉", "Follow another complaint"),
    ("查询办理进度", "Follow your complaint"),
    ("查询码", "Query code"),
    ("查询码：", "Query code: "),
    ("标题", "Title"),
    (
        "标题（公开，勿含个人信息）",
        "Title (public; no personal data)",
    ),
    (
        "标题（选填，公开显示，请勿填写个人信息）",
        "Title (optional, shown publicly: no personal data please)",
    ),
    ("标题：", "Title: "),
    ("样本不足", "Too few responses"),
    ("核验办件存证回执", "check a case's receipt"),
    (
        "每一个办件的每一个环节都有记录、有时限、可查询；超时亮黄牌、红牌，违规收费、体外循环等异常自动预警，每一项预警都有责任单位、期限和结果。",
        "Every step of every case is recorded, has a time limit and can be looked up. Delays raise yellow and red cards; illegal fees, off-system handling and other anomalies raise alerts automatically; every alert has a responsible office, a deadline and an outcome.",
    ),
    (
        "每一项变更都写入不可篡改的记录，注明操作人。",
        "Every change is written to the tamper-evident record, with who made it.",
    ),
    (
        "每个部门的每项指标都须评分（1至5分）",
        "Every indicator of every department needs a score (1 to 5)",
    ),
    (
        "每个部门都须给出总体评价（1至5分）",
        "Every department needs an overall rating (1 to 5)",
    ),
    ("民主评议", "Public appraisal"),
    (
        "没有在册的监测点可参加评议",
        "No registered monitoring point can take part in the round",
    ),
    ("没有符合条件的事项。", "No item matches."),
    ("没有该事项", "No such item"),
    (
        "没有该办件，或不属于本部门",
        "No such case, or it is not your department's",
    ),
    (
        "没有该投诉，或不由本单位办理",
        "No such complaint, or it is not handled by your department",
    ),
    ("没有该评议请求", "No such survey request"),
    ("法定办结时限", "Legal time limit"),
    ("法定时限", "Legal limit"),
    ("渠道", "Channel"),
    ("渠道：", "Channel: "),
    ("满意度", "Satisfaction"),
    ("满意率", "Satisfaction"),
    ("热线", "Hotline"),
    ("热线投诉已登记", "Hotline complaint registered"),
    (
        "热线投诉由话务员登记",
        "Hotline complaints are registered by operators",
    ),
    ("热线投诉登记", "Register a hotline complaint"),
    (
        "焦作市行政审批电子监察 · 全程接受群众监督 · 记录不可篡改",
        "Jiaozuo e-supervision of administrative approval · open to public supervision · a tamper-evident record",
    ),
    ("版本", "Version"),
    ("特别程序", "Special procedures"),
    ("特别程序结果", "Result of the special procedure"),
    (
        "特别程序（每行一种，如 听证、专家评审）",
        "Special procedures (one a line, such as 听证 hearing or 专家评审 expert review)",
    ),
    ("状态", "Status"),
    ("状态：", "Status: "),
    ("环节", "Step"),
    ("理由", "Reason"),
    (
        "理由（将告知投诉人）",
        "Reason (the complainant will be told)",
    ),
    ("用户", "User"),
    ("用户与角色", "Users and roles"),
    ("用户名", "User name"),
    ("用户名或密码错误", "Wrong user name or password"),
    ("申请事项", "Item applied for"),
    ("申请人", "Applicant"),
    ("申请人名称", "Applicant's name"),
    ("申请人：", "Applicant: "),
    ("申请延期", "Request an extension"),
    ("申请材料", "Materials"),
    (
        "申请材料（每行：名称|必备或非必备|原件份数|复印件份数）",
        "Materials (one a line: name|required or optional|originals|copies)",
    ),
    ("电话", "Phone"),
    ("登录", "Log in"),
    ("登记", "Register"),
    ("登记完成", "Registered"),
    ("登记日期", "Registered on"),
    ("登记时间", "Filed"),
    ("登记时间：", "Filed: "),
    ("登记未完成", "Not registered"),
    ("登记监测点", "Register a monitoring point"),
    ("监察人员", "Supervisor"),
    ("监测点", "Monitoring points"),
    (
        "监测点企业定期评议各部门；每期按期限催办，逾期未反馈的标红；结果按部门汇总公布，评议企业数不足的部门显示“样本不足”。",
        "The monitoring enterprises rate the departments round by round; each round is chased by its deadline and late answers are marked red; results are published in aggregate per department, and a department rated by too few enterprises shows “too few responses”.",
    ),
    (
        "监测点企业总体评价",
        "Overall rating by the monitoring enterprises",
    ),
    (
        "监测点企业总体评价图",
        "Chart of the overall rating by the monitoring enterprises",
    ),
    (
        "监测点企业评议",
        "Ratings by the enterprise monitoring points",
    ),
    (
        "监测点和评议期次的管理由监察机关和系统管理员进行；以下是本部门的评议结果。",
        "Monitoring points and rounds are managed by the supervision office and the administrators; below are your department's results.",
    ),
    ("监测点评议", "Monitoring point survey"),
    ("监测点（在册 ", "Monitoring points (registered: "),
    ("监督工作台", "Supervision board"),
    ("监督电话", "Supervision phone"),
    ("目录外收费", "Fee not in the catalog"),
    ("督办", "Supervise"),
    ("督办中", "Under supervision"),
    ("督办要求/理由/结论", "Order, reason or conclusion"),
    ("种类", "Kind"),
    ("窗口人员", "Window clerk"),
    ("窗口受理", "Window"),
    ("窗口受理登记", "Register an application"),
    ("窗口授权", "Window authority"),
    ("答复", "Answer"),
    (
        "答复内容（公开给投诉人，请勿写入个人信息）",
        "Answer (shown to the complainant; no personal data please)",
    ),
    ("答复期限", "Answer deadline"),
    ("答复期限：", "Answer deadline: "),
    ("答题链接", "Answer link"),
    ("筛选", "Filter"),
    ("筛选无效", "Invalid filter"),
    (
        "签名有效，记录内容与承诺一致。",
        "The signature is valid and the record matches its commitment.",
    ),
    ("类别", "Category"),
    ("类别：", "Category: "),
    (
        "粘贴办件查询页下载的存证回执（.tlog-proof），或选择回执文件，用本平台日志公钥验证签名、包含证明和记录承诺。",
        "Paste a receipt (.tlog-proof) downloaded from the case page, or choose the file, to check its signature, inclusion proof and record commitment against this platform's log key.",
    ),
    ("系统管理", "Administration"),
    ("系统管理员", "Administrator"),
    ("累计办件", "Cases in all"),
    ("累计按时办结率", "on-time rate in all"),
    ("累计满意率", "satisfaction in all"),
    ("红牌", "Red cards"),
    ("红牌、黄牌", "Red and yellow cards"),
    ("红牌报警", "Red card"),
    ("级别", "Level"),
    ("经办", "By"),
    ("经办人", "handled by"),
    (
        "经济发展环境监测点",
        "Economic environment monitoring points",
    ),
    (
        "经济发展环境监测点企业对各部门逐项评分（1至5分）；评议企业少于规定数的部门显示“样本不足”，不公布分数。",
        "The enterprise monitoring points rate each department on every indicator (1 to 5); a department rated by too few enterprises shows “too few responses” and no scores.",
    ),
    ("结束本期并公布", "Close the round and publish"),
    ("结束特别程序", "End the special procedure"),
    ("统一社会信用代码", "Unified social credit code"),
    ("统计", "Statistics"),
    ("继续登记", "Register another"),
    ("编号", "No."),
    ("网站", "Portal"),
    ("联系人", "Contact"),
    (
        "联系人应为1至50字",
        "The contact must be 1 to 50 characters",
    ),
    ("联系电话", "Contact phone"),
    (
        "联系电话（实名投诉填写）",
        "Phone (for a complaint under your name)",
    ),
    ("节假日安排", "Holiday calendar"),
    ("行业", "Sector"),
    (
        "行政审批电子监察平台",
        "E-supervision of administrative approval",
    ),
    (
        "补齐后即予受理。",
        "The application will be accepted once they are complete.",
    ),
    (
        "表格与图表数据相同，无需脚本即可阅读。",
        "the tables hold the same figures and need no script.",
    ),
    ("被投诉单位", "Department complained about"),
    ("被投诉单位：", "Department complained about: "),
    ("规则", "Rule"),
    (
        "规则代码、级别、参数和依据；保存即生效，适用于此后的事件。",
        "Rule codes, levels, parameters and bases; a saved pack is in force at once, for the events that follow.",
    ),
    ("规则包", "Rule pack"),
    ("规则包（TOML）", "Rule pack (TOML)"),
    ("角色", "Role"),
    ("解除锁定", "Unlock"),
    ("记录号", "Record no."),
    ("记录收费", "Record the fee"),
    ("记录环节", "Record the step"),
    ("记录类型", "Record type"),
    ("设定依据", "Legal basis"),
    ("访问人", "Viewed by"),
    ("证件号码", "ID number"),
    ("证件号码：", "ID number: "),
    ("证件类型", "ID type"),
    ("评价", "Rating"),
    ("评价内容", "Comment"),
    ("评价数", "Ratings"),
    ("评价时间", "Rated"),
    ("评价未提交", "The rating was not submitted"),
    ("评价本次办理（好差评）", "Rate this service"),
    ("评价答复", "Rate the answer"),
    ("评议企业数", "Enterprises"),
    ("评议已开始", "Round opened"),
    (
        "评议已提交，谢谢！评议结果在本期结束后汇总公布，不显示您的企业。",
        "Your answer is in, thank you. The results are published in aggregate when the round ends; your enterprise is not shown.",
    ),
    ("评议期次", "Round"),
    ("评议期次 ", "Round "),
    ("评议未提交", "The survey was not submitted"),
    ("评议部门", "Departments rated"),
    (
        "评议部门（每个在册监测点评议所选部门）",
        "Departments to rate (every registered point rates the departments chosen)",
    ),
    (
        "话务员登记电话投诉（受理渠道：热线）。登记后请把投诉编号和查询码告知来电人。",
        "The operator registers a complaint made by phone (channel: hotline). Then tell the caller the complaint number and the query code.",
    ),
    (
        "该投诉现在不能评价（尚未答复或已评价）",
        "This complaint cannot be rated now (not answered yet, or already rated)",
    ),
    ("说明", "Note"),
    (
        "请为每个部门的每一项选择1至5分",
        "Choose a score from 1 to 5 for every item of every department",
    ),
    ("请填写办件编号", "Please give the case number"),
    (
        "请填写启动理由和批准人",
        "Please give the reason and who approved it",
    ),
    (
        "请填写工作人员姓名或工号",
        "Please give the staff name or number",
    ),
    ("请填写投诉内容", "Please write your complaint"),
    ("请填写撤销原因", "Please give the reason for retiring"),
    (
        "请填写收费事项的实施编码和收费项目",
        "Please give the item code and the fee",
    ),
    ("请填写申请人名称", "Please give the applicant's name"),
    (
        "请对下列部门逐项评分：5分最好，1分最差。评议不记名，公布时只显示各部门的汇总结果。",
        "Rate each department below on every item: 5 is best, 1 is worst. Answers are anonymous; only each department's aggregate results are published.",
    ),
    ("请求", "Request"),
    (
        "请至少选择一个评议部门",
        "Please choose at least one department to rate",
    ),
    (
        "请记下投诉编号和查询码：查询码只显示这一次，凭它查询办理进度、评价答复。",
        "Write down the complaint number and the query code: the code is shown only this once, and you need it to follow the complaint and rate the answer.",
    ),
    (
        "请输入受理时告知您的办件编号和查询码。",
        "Enter the case number and query code you were given when the application was registered.",
    ),
    (
        "请输入投诉时告知您的投诉编号和查询码。",
        "Enter the complaint number and query code you were given when you complained.",
    ),
    ("请选择", "Please choose"),
    ("请选择处理结果", "Please choose the outcome"),
    (
        "请选择实名或匿名投诉",
        "Please choose anonymous or under your name",
    ),
    (
        "请选择投诉对象",
        "Please choose what the complaint is about",
    ),
    ("请选择投诉类别", "Please choose a category"),
    ("请选择收费项目", "Please choose the fee"),
    ("请选择满意度", "Please choose a satisfaction level"),
    (
        "请选择特别程序种类",
        "Please choose the kind of special procedure",
    ),
    (
        "请选择被投诉单位",
        "Please choose the department complained about",
    ),
    ("调休安排格式不正确：", "The holiday rows are not valid: "),
    (
        "调休安排（CSV：date,kind,name,notice；kind 为 holiday 或 workday）",
        "Holidays and working days (CSV: date,kind,name,notice; kind is holiday or workday)",
    ),
    ("超期未答复", "Overdue, unanswered"),
    ("超标准收费", "Fee above the standard"),
    ("转办去向", "Route"),
    ("载入", "Load"),
    ("载入年度通知", "Load a year's notice"),
    ("载入时间", "Loaded"),
    ("返回事项目录", "Back to the items"),
    ("返回事项管理", "Back to the items"),
    ("返回修改", "Back to the form"),
    ("返回办件", "Back to the case"),
    ("返回工作台", "Back to the console"),
    ("返回投诉处理", "Back to the complaints"),
    ("返回监测点", "Back to the monitoring points"),
    ("返回系统管理", "Back to administration"),
    ("进行中", "Open"),
    ("进行中：", "Running: "),
    ("违规违纪行为", "Misconduct"),
    ("连续登录失败", "Failed logins in a row"),
    ("退出登录", "Log out"),
    ("退回", "Return"),
    ("送达", "Deliver"),
    ("选择事项", "Choose the item"),
    (
        "逐月办件量、按时办结率和满意率图",
        "Chart of cases, on-time rate and satisfaction by month",
    ),
    ("逐月情况", "By month"),
    (
        "逐月投诉量与按时答复率、满意率",
        "Complaints per month, answered on time and satisfaction",
    ),
    (
        "逐月投诉量与按时答复率、满意率图",
        "Chart of complaints per month, answered on time and satisfaction",
    ),
    (
        "逐月红牌、黄牌数量图",
        "Chart of red and yellow cards by month",
    ),
    ("逐月统计和图表", "monthly figures and charts"),
    ("逐月统计的范围", "Monthly figures for"),
    ("通过", "Pass"),
    ("逾期未反馈", "Late, unanswered"),
    ("部门", "Department"),
    ("部门答复", "Department's answer"),
    ("部门负责人", "Department head"),
    ("部门：", "Department: "),
    ("重新办理中", "Being handled again"),
    ("金融", "Finance"),
    ("金额（元）", "Amount (yuan)"),
    ("锁定至 ", "locked until "),
    ("限定部门", "Limited to department"),
    (
        "限定部门（不选则可提交全部部门的数据）",
        "Limited to department (none: may submit data of every department)",
    ),
    ("限定部门：", "Limited to department: "),
    ("非必备", "Optional"),
    (
        "页面已过期，请刷新后重试",
        "The page has expired; please reload it and try again",
    ),
    (
        "页面已过期，请返回办件页面重新提交",
        "The page has expired; go back to the case and submit again",
    ),
    (
        "页面已过期，请重新提交",
        "The page has expired; please submit again",
    ),
    (
        "页面已过期，请重新登录",
        "The page has expired; please log in again",
    ),
    ("预警与报警", "Alerts"),
    (
        "首次评价“不满意”的，投诉将重新办理一次。",
        "A first “dissatisfied” rating reopens the complaint once.",
    ),
    ("首页", "Home"),
    ("验证", "Verify"),
    ("验证失败", "Verification failed"),
    ("验证通过", "Verified"),
    ("黄牌", "Yellow cards"),
    ("黄牌预警", "Yellow card"),
    ("（不属于部门）", "(no department)"),
    ("（受理后计算）", "(computed on acceptance)"),
    ("（已超期）", "(overdue)"),
    ("（已遮蔽）", "(masked) "),
    ("（待分办）", "(to triage)"),
    ("（必备）", " (required)"),
    (
        "（暂定：所涉年度放假安排尚未公布）",
        "(provisional: the year's holiday notice is not yet published)",
    ),
    ("（标准 ", " (standard "),
    (
        "（特别程序中，计时暂停）",
        "(special procedure: the clock is stopped)",
    ),
    ("（计时暂停）", " (clock stopped)"),
    (
        "（请告知来电人，仅显示这一次）",
        " (tell the caller; shown only this once)",
    ),
    ("（逾期反馈）", " (late)"),
    (
        "）材料不齐全。依据《行政许可法》第三十二条，现一次性告知需补正的全部材料：",
        ") is missing materials. Under article 32 of the Administrative Licensing Law, here is, once and in full, every material still needed:",
    ),
    ("），", "), "),
    ("，查询码 ", ", query code "),
    ("，电话 ", ", phone "),
    ("，证件 ", ", ID "),
    (
        "；仅显示转本单位办理的投诉",
        "; only the complaints sent to your department",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_sorted_and_unique() {
        for w in EN.windows(2) {
            assert!(
                w[0].0 < w[1].0,
                "{:?} must come before {:?}",
                w[1].0,
                w[0].0
            );
        }
    }

    /// Every literal passed to `t(...)` (or `msg(...)`) in the templates and the web sources —
    /// the portal's pages and the console's — has an English entry, also when the call is
    /// wrapped over lines.
    #[test]
    fn every_text_has_an_english_entry() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut missing = Vec::new();
        let mut seen = 0;
        for dir in ["templates", "src/web"] {
            let Ok(rd) = std::fs::read_dir(root.join(dir)) else {
                continue;
            };
            for entry in rd.flatten() {
                // This file holds the table and the test's own patterns, no page.
                if entry.file_name() == "i18n.rs" {
                    continue;
                }
                let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
                for (i, call) in text.match_indices(".t(").chain(text.match_indices(".msg(")) {
                    // Only method calls on a `Ui` (`ui.t(…)`) with a literal, in sources and
                    // templates.
                    let rest = text[i + call.len()..].trim_start();
                    let Some(rest) = rest.strip_prefix('"') else {
                        continue;
                    };
                    let Some(end) = rest.find('"') else { continue };
                    let zh = &rest[..end];
                    seen += 1;
                    if english(zh).is_none() {
                        missing.push(format!("{}: {zh}", entry.path().display()));
                    }
                }
            }
        }
        assert!(seen > 400, "only {seen} texts found");
        assert!(
            missing.is_empty(),
            "no English for:\n{}",
            missing.join("\n")
        );
    }

    /// The labels the console shows from the domain, which it translates with `Ui::msg`.
    #[test]
    fn the_console_labels_have_english() {
        let mut labels: Vec<&str> = lianzheng_app::admin::ROLES
            .iter()
            .map(|r| {
                lianzheng_app::auth::User {
                    username: String::new(),
                    display_name: String::new(),
                    role: (*r).to_string(),
                    department: None,
                }
                .role_zh()
            })
            .collect();
        labels.extend(
            ["open", "supervised", "rectified", "withdrawn", "closed"]
                .iter()
                .filter_map(|s| lianzheng_core::finding::FindingStatus::parse(s))
                .map(|s| s.label_zh()),
        );
        labels.extend(
            lianzheng_core::codes::Level::ALL
                .iter()
                .map(|l| l.label_zh()),
        );
        labels.extend(
            lianzheng_core::monitoring::Sector::ALL
                .iter()
                .map(|s| s.label_zh()),
        );
        labels.extend(
            ["pending", "answered", "late"]
                .iter()
                .filter_map(|s| lianzheng_core::monitoring::RequestStatus::parse(s).ok())
                .map(|s| s.label_zh()),
        );
        labels.extend(lianzheng_core::monitoring::INDICATORS);
        labels.push(lianzheng_core::monitoring::SUPPRESSED_LABEL);
        // The complaint statuses the use case words more richly.
        labels.extend(["重新办理中", "办理中（已延期）", "已答复，已评价"]);
        let missing: Vec<&str> = labels
            .into_iter()
            .filter(|l| english(l).is_none())
            .collect();
        assert!(missing.is_empty(), "no English for {missing:?}");
        let ui = Ui {
            lang: Lang::En,
            here: "/console".into(),
        };
        assert_eq!(ui.msg("延期审批和办结由监察局进行 (x)"), "x");
        assert_eq!(ui.msg("Choose (a) or (b)"), "Choose (a) or (b)");
        assert_eq!(
            ui.msg("部门 `市场局` 不存在 (department `市场局` does not exist)"),
            "department `市场局` does not exist"
        );
        assert_eq!(ui.msg("部门 `市场局` 不存在"), "部门 `市场局` 不存在");
        assert_eq!(
            ui.msg(
                "联系电话 `1 (2` 应为5至20位数字 (the contact phone `1 (2` must be 5 to 20 digits)"
            ),
            "the contact phone `1 (2` must be 5 to 20 digits"
        );
        assert_eq!(Ui::zh().msg("红牌报警"), "红牌报警");
        // The core's refusals are bilingual too.
        let period = lianzheng_core::monitoring::validate_period("2026-13")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert_eq!(
            ui.msg(&period),
            "the survey period `2026-13` must be a quarter such as 2026Q3 or a month such as 2026-11"
        );
        assert_eq!(
            Ui::zh().msg(&period),
            "评议期次 `2026-13` 应为季度（如2026Q3）或月份（如2026-11）"
        );
        // A Chinese page shows the Chinese half only.
        assert_eq!(
            Ui::zh().msg("部门 `市场局` 不存在 (department `市场局` does not exist)"),
            "部门 `市场局` 不存在"
        );
        assert_eq!(Ui::zh().msg("Choose (a) or (b)"), "Choose (a) or (b)");
        assert_eq!(ui.label("已转办", "assigned"), "Assigned");
        assert_eq!(Ui::zh().label("已转办", "assigned"), "已转办");
    }

    #[test]
    fn the_switch_keeps_the_page() {
        let ui = Ui {
            lang: Lang::Zh,
            here: "/query?case_no=1&code=2".into(),
        };
        assert_eq!(ui.switch_href(), "/query?case_no=1&code=2&lang=en");
        assert_eq!(query_lang(Some("a=1&lang=en")), Some(Lang::En));
        assert_eq!(query_lang(Some("lang=fr")), None);
    }
}
