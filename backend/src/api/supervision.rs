//! Supervision orders over HTTP: `GET /supervision-orders` (the orders the caller issues or must
//! answer, newest first) and `POST /supervision-orders/{id}/actions` (reply, accept, send back),
//! decided by the shared core's `domain::supervision`.

use actix_web::{HttpResponse, web};
use gridwork_mobile_core::AreaCode;
use gridwork_mobile_core::domain::event::OPS_ROLES;
use gridwork_mobile_core::domain::supervision::{OrderAction, OrderState};
use gridwork_mobile_core::wire::{SupervisionItem, SupervisionList};
use serde::Deserialize;

use super::events::{event_view, order_view};
use super::paging::Window;
use crate::auth::Caller;
use crate::error::ApiResult;
use crate::events::actions::Ctx;
use crate::events::supervision;
use crate::http::extract::ValidJson;
use crate::queries;
use crate::state::AppState;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct OrdersQuery {
    /// Comma-separated states: `open`, `replied`, `closed`, `escalated` [default: open,replied]
    pub state: Option<String>,
    /// Only those open past their due time.
    pub overdue: Option<bool>,
    pub cursor: Option<String>,
    /// 1 to 200 [default: 50]
    pub limit: Option<i64>,
}

/// The most orders one caller's reach is expected to hold in the asked states.
const ORDERS_MAX: i64 = 5_000;

pub async fn list(caller: Caller, state: web::Data<AppState>, q: web::Query<OrdersQuery>) -> ApiResult<HttpResponse> {
    let q = q.into_inner();
    let window = Window::parse(q.limit, q.cursor.as_deref())?;
    let states: Vec<String> = match q.state.as_deref() {
        Some(raw) => raw
            .split(',')
            .map(|s| s.trim().parse::<OrderState>().map(|s| s.as_str().to_owned()))
            .collect::<Result<_, _>>()?,
        None => vec![OrderState::Open.as_str().to_owned(), OrderState::Replied.as_str().to_owned()],
    };
    let only_overdue = q.overdue.unwrap_or(false);
    let index = state.areas();
    let items = state
        .db
        .run(move |conn| {
            let (orders, events): (Vec<_>, Vec<_>) =
                queries::events::orders_in(conn, &states, ORDERS_MAX)?.into_iter().unzip();
            // Who is on each event, for the whole list in one read (not one per order).
            let on = crate::events::on_events(conn, &events)?;
            let mut out = vec![];
            for ((order, event), on) in orders.into_iter().zip(&events).zip(on) {
                let area = event.area_code().and_then(|a| AreaCode::parse(a).ok());
                let steering = caller.holds_over(&OPS_ROLES, area.as_ref(), &*index);
                if !steering && !supervision::party_of(&caller, &index, &order, event, &on.assignees)?.responsible {
                    continue;
                }
                let order = order_view(order)?;
                if only_overdue && !order.overdue {
                    continue;
                }
                out.push(SupervisionItem { order, event: event_view(event, on)? });
            }
            Ok(out)
        })
        .await?;
    let (orders, next) = window.take(items);
    Ok(HttpResponse::Ok().json(SupervisionList { orders, limit: window.limit, next }))
}

/// The body: the core's `OrderAction`, whose limits `decide_order` checks.
#[derive(Debug, Deserialize)]
#[serde(transparent)]
pub struct OrderActionBody(pub OrderAction);

impl validator::Validate for OrderActionBody {
    fn validate(&self) -> Result<(), validator::ValidationErrors> {
        Ok(())
    }
}

pub async fn act(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: ValidJson<OrderActionBody>,
) -> ApiResult<HttpResponse> {
    let id = path.into_inner();
    let (index, policy) = (state.areas(), state.settings.event_loop);
    let row = state
        .db
        .run(move |conn| supervision::act(conn, Ctx { index: &index, policy: &policy }, &caller, &id, &body.0.0))
        .await?;
    Ok(HttpResponse::Ok().json(order_view(row)?))
}
