//! Statements shared by the two leased queue tables, `inbox` and `outbox`: same lease columns,
//! same claim, fail, release, list and count. Written out rather than built, since the claim is
//! the hot path and differs between SQLite and PostgreSQL.

use sea_orm::{ConnectionTrait, DbErr, FromQueryResult, Statement, Value};

/// A statement with `$1`-style placeholders (both drivers accept them) for `db`'s backend.
pub fn stmt(
    db: &impl ConnectionTrait,
    sql: &str,
    values: impl IntoIterator<Item = Value>,
) -> Statement {
    Statement::from_sql_and_values(db.get_database_backend(), sql, values)
}

/// One of the two queue tables.
pub struct Queue {
    pub table: &'static str,
    /// Columns read into the row type.
    pub columns: &'static str,
    /// Claim order of due rows.
    pub order_by: &'static str,
    /// State of a row that failed for good (`parked` in the inbox, `dead` in the outbox).
    pub failed_state: &'static str,
}

impl Queue {
    /// Claims up to `limit` due rows for `owner` until `now + lease_ms`, in `order_by` order,
    /// counting the claim as an attempt: a row that crashes its worker every time still runs
    /// out of attempts.
    pub async fn claim<T: FromQueryResult>(
        &self,
        db: &impl ConnectionTrait,
        owner: &str,
        now: i64,
        lease_ms: i64,
        limit: u32,
    ) -> Result<Vec<T>, DbErr> {
        // PostgreSQL skips rows another claimer holds; SQLite serializes writers anyway.
        let skip_locked = match db.get_database_backend() {
            sea_orm::DbBackend::Postgres => " FOR UPDATE SKIP LOCKED",
            _ => "",
        };
        let sql = format!(
            "UPDATE {table} SET lease_owner = $1, lease_until = $2, attempts = attempts + 1 \
             WHERE id IN (SELECT id FROM {table} WHERE state = 'pending' AND available_at <= $3 \
             AND (lease_until IS NULL OR lease_until <= $3) ORDER BY {order} LIMIT $4{skip_locked}) \
             RETURNING {columns}",
            table = self.table,
            order = self.order_by,
            columns = self.columns,
        );
        let values = [
            owner.into(),
            (now + lease_ms).into(),
            now.into(),
            i64::from(limit).into(),
        ];
        let rows = db.query_all_raw(stmt(db, &sql, values)).await?;
        rows.iter()
            .map(|row| T::from_query_result(row, ""))
            .collect()
    }

    /// Records a failed attempt of a row `owner` holds: due again at `retry_at`, or in the
    /// failed state when `retry_at` is `None`. False if the lease was lost.
    pub async fn fail(
        &self,
        db: &impl ConnectionTrait,
        id: i64,
        owner: &str,
        error: &str,
        retry_at: Option<i64>,
        now: i64,
    ) -> Result<bool, DbErr> {
        let (state, available_at, finished_at): (&str, Value, Value) = match retry_at {
            Some(at) => ("pending", at.into(), Option::<i64>::None.into()),
            None => (self.failed_state, now.into(), now.into()),
        };
        let sql = format!(
            "UPDATE {} SET state = $3, last_error = $4, available_at = $5, finished_at = $6, \
             lease_owner = NULL, lease_until = NULL WHERE id = $1 AND lease_owner = $2",
            self.table
        );
        let values = [
            id.into(),
            owner.into(),
            state.into(),
            error.into(),
            available_at,
            finished_at,
        ];
        Ok(db
            .execute_raw(stmt(db, &sql, values))
            .await?
            .rows_affected()
            == 1)
    }

    /// Gives claimed but unstarted rows back (at shutdown) without counting the attempt.
    pub async fn release(
        &self,
        db: &impl ConnectionTrait,
        ids: &[i64],
        owner: &str,
    ) -> Result<(), DbErr> {
        let sql = format!(
            "UPDATE {} SET lease_owner = NULL, lease_until = NULL, attempts = attempts - 1 \
             WHERE id = $1 AND lease_owner = $2 AND state = 'pending'",
            self.table
        );
        for id in ids {
            db.execute_raw(stmt(db, &sql, [(*id).into(), owner.into()]))
                .await?;
        }
        Ok(())
    }

    /// Puts a row in the failed state back in the queue, due now, with a fresh attempt count.
    pub async fn requeue(
        &self,
        db: &impl ConnectionTrait,
        id: i64,
        now: i64,
    ) -> Result<bool, DbErr> {
        let sql = format!(
            "UPDATE {} SET state = 'pending', attempts = 0, available_at = $2, finished_at = NULL, \
             lease_owner = NULL, lease_until = NULL WHERE id = $1 AND state = $3",
            self.table
        );
        let values = [id.into(), now.into(), self.failed_state.into()];
        Ok(db
            .execute_raw(stmt(db, &sql, values))
            .await?
            .rows_affected()
            == 1)
    }

    /// Rows in `state`, newest first.
    pub async fn list<T: FromQueryResult>(
        &self,
        db: &impl ConnectionTrait,
        state: &str,
        limit: u32,
    ) -> Result<Vec<T>, DbErr> {
        let sql = format!(
            "SELECT {} FROM {} WHERE state = $1 ORDER BY id DESC LIMIT $2",
            self.columns, self.table
        );
        let rows = db
            .query_all_raw(stmt(db, &sql, [state.into(), i64::from(limit).into()]))
            .await?;
        rows.iter()
            .map(|row| T::from_query_result(row, ""))
            .collect()
    }

    /// One row by id.
    pub async fn get<T: FromQueryResult>(
        &self,
        db: &impl ConnectionTrait,
        id: i64,
    ) -> Result<Option<T>, DbErr> {
        let sql = format!("SELECT {} FROM {} WHERE id = $1", self.columns, self.table);
        let row = db.query_one_raw(stmt(db, &sql, [id.into()])).await?;
        row.map(|row| T::from_query_result(&row, "")).transpose()
    }

    /// The state of one row, if it exists.
    pub async fn state_of(
        &self,
        db: &impl ConnectionTrait,
        id: i64,
    ) -> Result<Option<String>, DbErr> {
        let sql = format!("SELECT state FROM {} WHERE id = $1", self.table);
        let row = db.query_one_raw(stmt(db, &sql, [id.into()])).await?;
        row.map(|row| row.try_get("", "state")).transpose()
    }

    /// Rows per state, for metrics and the admin API.
    pub async fn depth(&self, db: &impl ConnectionTrait) -> Result<Vec<(String, i64)>, DbErr> {
        let sql = format!(
            "SELECT state, COUNT(*) AS n FROM {} GROUP BY state",
            self.table
        );
        let rows = db.query_all_raw(stmt(db, &sql, [])).await?;
        rows.iter()
            .map(|row| Ok((row.try_get("", "state")?, row.try_get("", "n")?)))
            .collect()
    }
}
