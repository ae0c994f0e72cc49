//! Host calls in batches: one threadsafe-function call hands a batch of items to a small JS
//! dispatcher that calls the host function once per item, at most `limit` at a time, settles
//! each call on its own (success, throw, rejection or timeout) and resolves one array of
//! outcomes. One thread hop per batch instead of one per item; the host still sees one call per
//! item and never more than `limit` in flight.

use super::callbacks::{HostReturn, Raw};
use super::js::Builder;
use napi::bindgen_prelude::{FnArgs, FromNapiValue, Function, Unknown};
use napi::sys;
use napi::threadsafe_function::{ThreadsafeCallContext, ThreadsafeFunction};
use std::ptr;
use std::sync::Arc;
use views_core::error::{Error, ErrorCode, Result};

/// `(fn, timeoutMs, name, limit) => (itemsJson) => Promise<Array<true | error>>`: calls `fn` once
/// per item with at most `limit` calls in flight, starting the next call as soon as one settles
/// (on the event loop: no thread hop), each with its own deadline.
const DISPATCHER: &str = r#"(function (fn, timeoutMs, name, limit) {
  function failure (err, what) {
    return err === undefined || err === null || err === true ? new Error(name + ' ' + what) : err
  }
  return function (batch) {
    // The items come as one JSON array: JSON.parse builds them far faster than napi calls.
    var items = JSON.parse(batch)
    return new Promise(function (resolve) {
      var outcomes = new Array(items.length)
      var started = new Map()
      var next = 0
      var finished = 0
      // One sweeper enforces every call's deadline (at most `limit` calls run at once).
      var sweeper = setInterval(function () {
        var now = Date.now()
        started.forEach(function (at, i) {
          if (now - at >= timeoutMs) settle(i, new Error(name + ' did not settle within ' + timeoutMs + ' ms'))
        })
      }, Math.max(5, Math.min(1000, Math.floor(timeoutMs / 4))))
      if (typeof sweeper.unref === 'function') sweeper.unref()
      function launch () {
        while (started.size < limit && next < items.length) start(next++)
        if (finished === items.length) {
          clearInterval(sweeper)
          resolve(outcomes)
        }
      }
      function start (i) {
        started.set(i, Date.now())
        try {
          var returned = fn(items[i])
          if (returned !== null && (typeof returned === 'object' || typeof returned === 'function') && typeof returned.then === 'function') {
            returned.then(function () { settle(i, true) }, function (err) { settle(i, failure(err, 'rejected')) })
          } else {
            settle(i, true)
          }
        } catch (err) {
          settle(i, failure(err, 'threw'))
        }
      }
      function settle (i, outcome) {
        if (outcomes[i] !== undefined) return
        outcomes[i] = outcome
        started.delete(i)
        finished++
        if (finished === items.length || next < items.length) launch()
      }
      launch()
    })
  }
})"#;

/// The settled outcomes of one batch: `None` for success, the original JS error otherwise.
pub struct BatchOutcome(Vec<Option<napi::Error>>);

impl FromNapiValue for BatchOutcome {
  unsafe fn from_napi_value(env: sys::napi_env, value: sys::napi_value) -> napi::Result<Self> {
    let mut len = 0u32;
    // SAFETY: called by napi on the JS thread; the dispatcher resolves an array.
    let status = unsafe { sys::napi_get_array_length(env, value, &mut len) };
    if status != sys::Status::napi_ok {
      return Err(napi::Error::from_reason(
        "batch dispatcher did not resolve an array",
      ));
    }
    let mut outcomes = Vec::with_capacity(len as usize);
    for i in 0..len {
      let mut item = ptr::null_mut();
      // SAFETY: index within length of a plain array built by the dispatcher.
      let status = unsafe { sys::napi_get_element(env, value, i, &mut item) };
      let mut ok = false;
      let is_true = status == sys::Status::napi_ok
        // SAFETY: a live value; a non-boolean makes napi return an error status.
        && unsafe { sys::napi_get_value_bool(env, item, &mut ok) } == sys::Status::napi_ok
        && ok;
      outcomes.push(if is_true {
        None
      } else {
        // SAFETY: `item` is a live value of this env (the rejection reason).
        Some(napi::Error::from(unsafe {
          Unknown::from_raw_unchecked(env, item)
        }))
      });
    }
    Ok(BatchOutcome(outcomes))
  }
}

/// A batched host callback taking `Vec<T>`.
pub type BatchFn<T> =
  ThreadsafeFunction<Vec<T>, HostReturn<BatchOutcome>, FnArgs<(Raw,)>, napi::Status, false, true>;

fn check(status: sys::napi_status, what: &str) -> napi::Result<()> {
  if status == sys::Status::napi_ok {
    Ok(())
  } else {
    Err(napi::Error::from_reason(format!(
      "cannot {what} (napi status {status})"
    )))
  }
}

/// Wraps the host function `func` in the dispatcher; `encode` appends one item as JSON (the
/// object the host receives): a batch crosses to JavaScript as one JSON array string.
pub fn batch_fn<T: 'static>(
  env: sys::napi_env,
  func: sys::napi_value,
  name: &str,
  timeout_ms: u64,
  limit: usize,
  mut encode: impl FnMut(&T, &mut String) + 'static,
) -> napi::Result<BatchFn<T>> {
  let b = Builder::new(env);
  let internal = |e: Error| napi::Error::from_reason(e.message);
  let source = b.string(DISPATCHER).map_err(internal)?;
  let mut factory = ptr::null_mut();
  // SAFETY: live env; the script is a constant function expression.
  check(
    unsafe { sys::napi_run_script(env, source, &mut factory) },
    "compile the batch dispatcher",
  )?;
  let args = [
    func,
    b.number(timeout_ms as f64).map_err(internal)?,
    b.string(name).map_err(internal)?,
    b.number(limit.max(1) as f64).map_err(internal)?,
  ];
  let recv = b.undefined().map_err(internal)?;
  let mut dispatcher = ptr::null_mut();
  // SAFETY: `factory` is the function compiled above; it only builds a closure.
  check(
    unsafe {
      sys::napi_call_function(
        env,
        recv,
        factory,
        args.len(),
        args.as_ptr(),
        &mut dispatcher,
      )
    },
    "create the batch dispatcher",
  )?;
  // SAFETY: `dispatcher` is the live function just returned.
  let function: Function<'_, FnArgs<(Raw,)>, HostReturn<BatchOutcome>> =
    unsafe { Function::from_napi_value(env, dispatcher)? };
  function
    .build_threadsafe_function::<Vec<T>>()
    .weak::<true>()
    .callee_handled::<false>()
    .build_callback(move |ctx: ThreadsafeCallContext<Vec<T>>| {
      let mut json = String::with_capacity(ctx.value.len() * 200 + 2);
      json.push('[');
      for (i, item) in ctx.value.iter().enumerate() {
        if i > 0 {
          json.push(',');
        }
        encode(item, &mut json);
      }
      json.push(']');
      let batch = Builder::new(ctx.env.raw())
        .string(&json)
        .map_err(|e| napi::Error::from_reason(e.message))?;
      Ok(FnArgs {
        data: (Raw(batch),),
      })
    })
}

/// Calls the batched host function: one outcome per item, in order. `Err` when the batch
/// itself could not run (then every item counts as failed).
pub async fn call_batch<T: 'static + Send>(
  func: &BatchFn<T>,
  name: &str,
  items: Vec<T>,
) -> Result<Vec<Result<()>>> {
  let count = items.len();
  let failed = |e: napi::Error| {
    Error::new(
      ErrorCode::CallbackFailed,
      format!("{name} batch failed: {}", e.reason),
    )
    .with_cause(Arc::new(e))
  };
  let returned = func.call_async_catch(items).await.map_err(failed)?;
  let outcome = match returned {
    HostReturn::Ready(outcome) => outcome,
    HostReturn::Pending(promise) => promise.await.map_err(failed)?,
  };
  if outcome.0.len() != count {
    return Err(Error::new(
      ErrorCode::Internal,
      format!(
        "{name} batch returned {} outcomes for {count} items",
        outcome.0.len()
      ),
    ));
  }
  Ok(
    outcome
      .0
      .into_iter()
      .map(|err| match err {
        None => Ok(()),
        Some(err) => {
          let reason = if err.reason.is_empty() {
            "threw or rejected".to_string()
          } else {
            err.reason.clone()
          };
          Err(
            Error::new(
              ErrorCode::CallbackFailed,
              format!("{name} failed: {reason}"),
            )
            .with_cause(Arc::new(err)),
          )
        }
      })
      .collect(),
  )
}
