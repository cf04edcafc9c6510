"""Hostile SQL: every statement below is refused by the guard on every engine, with a
reason, and the data is unchanged afterwards. Plus the second line of defence: with the
guard bypassed, the read-only connection itself refuses writes."""

from __future__ import annotations

import pytest

from stageagent.exceptions import ToolError
from stageagent.tools.sql import check_read_only, sql_executor
from stageagent.tools.sql.database import QueryError
from stageagent.tools.sql.execute import run_read_only

C = "stageagent_canary"

DDL = [
    f"DROP TABLE {C}", f"DROP TABLE IF EXISTS {C}", "DROP TABLE orders, customers",
    "CREATE TABLE evil (id INT)", f"CREATE TABLE evil AS SELECT * FROM {C}",
    "CREATE VIEW v AS SELECT 1", "CREATE INDEX ix ON orders (status)",
    f"ALTER TABLE {C} ADD COLUMN x INT", f"ALTER TABLE {C} RENAME TO gone",
    f"TRUNCATE TABLE {C}", f"TRUNCATE {C}", "DROP VIEW IF EXISTS v", "DROP INDEX ix",
    "CREATE TEMPORARY TABLE t AS SELECT 1 AS a", "CREATE SCHEMA evil", "DROP SCHEMA public",
    "CREATE DATABASE evil", "DROP DATABASE test", f"COMMENT ON TABLE {C} IS 'x'",
    "CREATE FUNCTION f() RETURNS int AS 'select 1' LANGUAGE sql", f"RENAME TABLE {C} TO gone",
    "CREATE TRIGGER t AFTER INSERT ON orders FOR EACH ROW BEGIN SELECT 1; END",
]
DML = [
    f"DELETE FROM {C}", f"DELETE FROM {C} WHERE 1=1", f"UPDATE {C} SET note = 'x'",
    f"INSERT INTO {C} VALUES (99, 'x')", f"INSERT INTO {C} SELECT id + 100, note FROM {C}",
    f"REPLACE INTO {C} VALUES (1, 'x')", f"MERGE INTO {C} USING orders ON 1=1 WHEN MATCHED "
    "THEN DELETE", f"UPSERT INTO {C} VALUES (1, 'x')",
    f"INSERT INTO {C} (id) VALUES (7) ON CONFLICT DO NOTHING",
    f"WITH d AS (DELETE FROM {C} RETURNING *) SELECT * FROM d",
    f"WITH u AS (UPDATE {C} SET note = 'x' RETURNING id) SELECT count(*) FROM u",
    f"WITH i AS (INSERT INTO {C} VALUES (50, 'x') RETURNING id) SELECT * FROM i",
    f"UPDATE orders SET status = 'cancelled' WHERE id IN (SELECT id FROM {C})",
    f"DELETE o FROM orders o JOIN {C} c ON c.id = o.id",
    f"SELECT * FROM {C}; DELETE FROM {C}",
]
MULTI = [
    f"SELECT 1; DROP TABLE {C}", f"SELECT 1;DROP TABLE {C};", "SELECT 1; SELECT 2",
    f"SELECT * FROM orders;\nTRUNCATE {C}", f"SELECT 1; UPDATE {C} SET note = NULL",
    f"SELECT 1; COMMIT; DELETE FROM {C}", f"BEGIN; DELETE FROM {C}; COMMIT",
    f"SELECT 1 -- harmless\n; DROP TABLE {C}", f"SELECT ';' ; DROP TABLE {C}",
    f"SELECT 1; INSERT INTO {C} VALUES (9, 'x')", f"SELECT 1 UNION SELECT 2; DELETE FROM {C}",
    f"(SELECT 1); DROP TABLE {C}",
]
COMMENT_AND_STRING_TRICKS = [
    f"SELECT 1 /*! ; DROP TABLE {C} */", "SELECT 1 /*!50000 , (SELECT 1) */",
    f"/*! DROP TABLE {C} */ SELECT 1", "SELECT /*+ MAX_EXECUTION_TIME(1) */ 1",
    f"/* comment */ DROP TABLE {C}", f"-- comment\nDELETE FROM {C}",
    f"SELECT 1 /* ; */ ; DELETE FROM {C}", f"DEL/**/ETE FROM {C}",
    f"SELECT '1'''; DROP TABLE {C}; --'", f"SELECT 'a' FROM {C} WHERE note = '' ; DROP TABLE {C}",
    f"SELECT $$x$$; DROP TABLE {C}", f"SELECT \"a\"\"\"; DELETE FROM {C}",
    f"SELECT 1 \\; DROP TABLE {C}", f"SELECT 1; -- \n DELETE FROM {C}",
    f"\n\n  ;; DROP TABLE {C} ;;", f"SELECT 1 # comment\n; DELETE FROM {C}",
    "", "   ", ";", "-- only a comment", "/* only a comment */",
    "SELECT FROM WHERE", "SELEC * FROM orders", "SELECT * FROM (SELECT 1", "DROP",
]
SESSION_AND_FILES = [
    "PRAGMA query_only = OFF", "PRAGMA writable_schema = ON", f"PRAGMA table_info({C})",
    "ATTACH DATABASE '/tmp/evil.db' AS evil", "ATTACH '/tmp/evil.db' AS evil", "DETACH evil",
    "VACUUM", "VACUUM INTO '/tmp/copy.db'", "REINDEX", "ANALYZE", f"ANALYZE {C}",
    f"COPY {C} TO '/tmp/x.csv'", f"COPY {C} FROM '/etc/passwd'", "COPY (SELECT 1) TO PROGRAM 'id'",
    f"SELECT * FROM {C} INTO OUTFILE '/tmp/x'", f"SELECT * FROM {C} INTO DUMPFILE '/tmp/x'",
    f"SELECT * INTO evil FROM {C}", f"SELECT * INTO TEMP evil FROM {C}", f"SELECT id INTO @v FROM {C}",
    f"LOAD DATA INFILE '/etc/passwd' INTO TABLE {C}", "SET default_transaction_read_only = off",
    "SET SESSION TRANSACTION READ WRITE", "SET @x = 1", "SET GLOBAL read_only = 0",
    "RESET ALL", "USE mysql", "BEGIN", "COMMIT", "ROLLBACK", "START TRANSACTION READ WRITE",
    "GRANT ALL ON orders TO public", "REVOKE ALL ON orders FROM public", "LOCK TABLE orders",
    "LOCK TABLES orders WRITE", "UNLOCK TABLES", "KILL 1", "SHOW TABLES", "DESCRIBE orders",
    "EXPLAIN ANALYZE DELETE FROM orders", "CALL evil()", "DO 1", "EXECUTE stmt",
    "PREPARE stmt FROM 'DELETE FROM orders'", "DEALLOCATE PREPARE stmt", "HANDLER orders OPEN",
    "LISTEN ch", "NOTIFY ch", "DISCARD ALL", "CHECKPOINT", "CLUSTER orders", "REFRESH MATERIALIZED VIEW v",
    "SELECT @a := 1", "VALUES (1)",
]
LOCKING = [
    "SELECT * FROM orders FOR UPDATE", "SELECT * FROM orders FOR SHARE",
    "SELECT * FROM orders FOR NO KEY UPDATE", "SELECT * FROM orders FOR KEY SHARE",
    "SELECT * FROM orders LOCK IN SHARE MODE", "SELECT * FROM orders FOR UPDATE NOWAIT",
    "SELECT * FROM orders FOR UPDATE SKIP LOCKED",
    "SELECT * FROM (SELECT * FROM orders FOR UPDATE) x",
    "WITH x AS (SELECT * FROM orders FOR UPDATE) SELECT * FROM x",
]
SIDE_EFFECT_FUNCTIONS = [
    "SELECT pg_sleep(10)", "SELECT PG_SLEEP(10)", "SELECT pg_sleep_for('10 seconds')",
    "SELECT pg_read_file('/etc/passwd')", "SELECT pg_read_binary_file('/etc/passwd')",
    "SELECT pg_ls_dir('.')", "SELECT lo_import('/etc/passwd')", "SELECT lo_export(1, '/tmp/x')",
    "SELECT dblink('host=evil', 'SELECT 1')", "SELECT dblink_exec('DROP TABLE orders')",
    "SELECT set_config('default_transaction_read_only', 'off', false)",
    "SELECT nextval('orders_id_seq')", "SELECT setval('s', 1)",
    "SELECT pg_terminate_backend(1)", "SELECT pg_cancel_backend(1)", "SELECT pg_reload_conf()",
    "SELECT pg_advisory_lock(1)", "SELECT pg_notify('ch', 'x')", "SELECT txid_current()",
    "SELECT query_to_xml('DELETE FROM orders', true, true, '')",
    "SELECT sleep(10)", "SELECT SLEEP(10) FROM orders", "SELECT benchmark(100000000, md5('a'))",
    "SELECT load_file('/etc/passwd')", "SELECT get_lock('x', 10)", "SELECT release_lock('x')",
    "SELECT master_pos_wait('x', 1)", "SELECT sys_exec('id')",
    "SELECT load_extension('/tmp/evil.so')", "SELECT readfile('/etc/passwd')",
    "SELECT writefile('/tmp/x', 'y')", "SELECT randomblob(1000000000)",
    "SELECT zeroblob(1000000000)", "SELECT fts3_tokenizer('simple')",
    "SELECT id FROM orders WHERE id = (SELECT pg_sleep(1))",
    "SELECT * FROM orders o WHERE EXISTS (SELECT sleep(1))",
    "WITH s AS (SELECT pg_sleep(5) AS x) SELECT * FROM s",
    "SELECT 1 UNION SELECT sleep(5)", "SELECT coalesce(NULL, pg_read_file('/etc/passwd'))",
    "SELECT CASE WHEN 1=1 THEN benchmark(1000, md5('x')) END",
]
HOSTILE = DDL + DML + MULTI + COMMENT_AND_STRING_TRICKS + SESSION_AND_FILES + LOCKING + \
    SIDE_EFFECT_FUNCTIONS


def test_there_are_at_least_100_distinct_hostile_cases():
    assert len(set(HOSTILE)) == len(HOSTILE) >= 100


@pytest.mark.parametrize("sql", HOSTILE)
def test_hostile_sql_is_refused_with_a_reason(demo, ctx, call, sql):
    before = demo.counts()
    with pytest.raises(ToolError) as info:
        call(sql_executor, ctx, sql=sql)
    message = str(info.value)
    assert message.startswith("query refused: ") and len(message) > 40
    assert "Only a single read-only SELECT" in message
    assert "sql_result" not in ctx.state
    assert demo.counts() == before


def test_data_unchanged_after_the_whole_barrage(demo):
    counts = demo.counts()
    assert counts["stageagent_canary"] == 3
    assert counts["orders"] == 3000 and counts["empty_things"] == 0


@pytest.mark.parametrize("sql, reason", [
    ("WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d", "DELETE writes data"),
    ("SELECT * FROM t FOR UPDATE", "locking clauses"),
    ("SELECT * INTO x FROM t", "SELECT ... INTO"),
    ("SELECT pg_sleep(1)", "function pg_sleep()"),
    ("SELECT 1; SELECT 2", "found 2 statements"),
    ("SELECT 1 /*! , 2 */", "executable comments"),
    ("COPY t TO '/tmp/x'", "COPY"),
    ("SELEC 1", "could not be parsed"),
])
def test_reasons_name_the_problem(sql, reason):
    verdict = check_read_only(sql, "postgres")
    assert not verdict.allowed and reason in verdict.reason


@pytest.mark.parametrize("sql", [
    "SELECT 'DROP TABLE x; --' AS s",
    "SELECT note FROM stageagent_canary WHERE note <> 'DELETE FROM orders'",
    "SELECT 1 AS a -- trailing comment",
    "SELECT 1;",
    "SELECT id FROM orders UNION ALL SELECT id FROM customers ORDER BY 1",
    "SELECT id FROM orders INTERSECT SELECT id FROM customers",
    "SELECT id FROM orders EXCEPT SELECT id FROM customers",
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5) SELECT i FROM n",
])
def test_legitimate_queries_with_scary_text_still_run(ctx, call, sql):
    out = call(sql_executor, ctx, sql=sql)
    assert out["row_count"] >= 1


@pytest.mark.parametrize("sql", [
    "INSERT INTO stageagent_canary VALUES (99, 'x')",
    "UPDATE stageagent_canary SET note = 'pwned'",
    "DELETE FROM stageagent_canary",
    "CREATE TABLE evil_probe (id INTEGER)",
    "DROP TABLE stageagent_canary",
])
def test_read_only_connection_refuses_writes_even_without_the_guard(demo, sql):
    """Second line of defence: the guard is bypassed here on purpose."""
    before = demo.counts()
    with pytest.raises(QueryError) as info:
        run_read_only(demo.database, sql, limit=10, timeout=2)
    assert any(k in str(info.value).lower() for k in ("read-only", "read only", "readonly"))
    assert demo.counts() == before
