-- soak_load.lua: the seeded load of bench/binlog/soak, a sysbench script. It
-- works the `soak` database with the changes a row-binlog copy finds hardest:
--
--   keyed     BIGINT UNSIGNED key, also near 2^63 and 2^64: key moves, range
--             shifts (ORDER BY so rows move into keys just vacated), swaps
--             through the spare key 0, REPLACE, upserts, range deletes, now and
--             then one transaction over most of the table; UNSIGNED and signed
--             extremes in every integer width, BINARY(8) with trailing zero bytes
--   pair      a two-column key whose second part has a case-insensitive,
--             space-padding collation ('x1', 'X1' and 'x1 ' are one key)
--   uniq      a primary and a second unique key: a code moves from one row to
--             another inside a transaction
--   keyless   no key at all: duplicate rows, NULLs, DELETE/UPDATE ... LIMIT 1, and
--             strings that differ only in case or trailing spaces
--   keyless_bin  the same with a binary string column, where such strings differ
--             for every comparison (so a difference here is not about collations)
--   evolving  a plain table for the DDL to change under
--
-- and now and then (--ddl-every) an ALTER TABLE that adds a column (at the end,
-- FIRST or AFTER the second one) or drops one it added, on any of these tables.
--
--   sysbench soak_load.lua --mysql-... [--keys=3000] prepare   (creates `soak`)
--   sysbench soak_load.lua --mysql-... --threads=1 --rand-seed=N run
--
-- With one thread the statements are a function of --rand-seed. Each DDL is
-- printed ("ddl: ...").

local ffi = require("ffi")

sysbench.cmdline.options = {
  keys = {"key slots of soak.keyed below 2^63 (half of them filled by prepare)", 3000},
  ddl_every = {"one event in this many (on average) is an ALTER TABLE; 0: none", 500},
}

local con

-- -- values ------------------------------------------------------------------

local function uniform(a, b) return sysbench.rand.uniform(a, b) end
local function chance(per_mille) return uniform(1, 1000) <= per_mille end
local function pick(list) return list[uniform(1, #list)] end

local function u64(x) return (tostring(x):gsub("U?LL$", "")) end
local two_63 = ffi.new("uint64_t", 9223372036854775808ULL)
local two_64_minus_1 = ffi.new("uint64_t", 18446744073709551615ULL)

-- A key: mostly 1..keys, else one of 32 keys around 2^63 or the top 32 below 2^64.
local function key()
  local r = uniform(1, 100)
  if r <= 90 then return tostring(uniform(1, sysbench.opt.keys)) end
  if r <= 95 then return u64(two_63 - 16 + uniform(0, 31)) end
  return u64(two_64_minus_1 - uniform(0, 31))
end

local function random_u64()
  return u64(ffi.new("uint64_t", uniform(0, 4294967295)) * 4294967296ULL + uniform(0, 4294967295))
end

local function v_u64()
  return pick({"0", "1", "9223372036854775807", "9223372036854775808",
               "18446744073709551614", "18446744073709551615", random_u64, random_u64})
end
local function v_i64()
  return pick({"-9223372036854775808", "9223372036854775807", "-1", "0", "NULL",
               tostring(uniform(0, 2000000000) - 1000000000)})
end
local function v_u32()
  return pick({"0", "2147483648", "4294967295", "NULL", tostring(uniform(0, 4294967295))})
end
local function v_u24() return pick({"0", "8388608", "16777215", tostring(uniform(0, 16777215))}) end
local function v_u16() return pick({"0", "32768", "65535", tostring(uniform(0, 65535))}) end
local function v_u8() return pick({"0", "128", "255", tostring(uniform(0, 255))}) end
local function v_i8() return pick({"-128", "-1", "0", "127", "NULL"}) end
local function v_dec()
  return pick({"0", "99999999999999999999", "18446744073709551616", "NULL",
               tostring(uniform(0, 4294967295)) .. tostring(uniform(100000000, 999999999))})
end
local function v_bin()
  return pick({"NULL", "'ab'", "X'00'", "X'0000000000000001'", "X'FF00FF0000000000'",
               "X'6162630000'", "''", "UNHEX('" .. string.format("%08x", uniform(0, 4294967295)) .. "')"})
end
local function v_note()
  return pick({"NULL", "''", "'trailing space '", "'ünïcödé'", "'x'",
               "'" .. sysbench.rand.string("@@@@-####") .. "'"})
end

local function value(v) if type(v) == "function" then return v() end return v end

local keyed_columns = "(id, u64, i64, u32, u24, u16, u8, i8, d, bin, note)"
local function keyed_row(id)
  return string.format("(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)", id, value(v_u64()),
                       v_i64(), v_u32(), v_u24(), v_u16(), v_u8(), v_i8(), v_dec(), v_bin(),
                       v_note())
end

-- -- statements, by table -----------------------------------------------------

local function low_range(width)
  local lo = uniform(1, sysbench.opt.keys - width)
  return lo, lo + uniform(0, width)
end

local keyed_ops = {
  {10, function() return "INSERT IGNORE INTO soak.keyed " .. keyed_columns .. " VALUES " .. keyed_row(key()) end},
  {5, function()
     return "INSERT INTO soak.keyed " .. keyed_columns .. " VALUES " .. keyed_row(key()) ..
            " ON DUPLICATE KEY UPDATE u64 = VALUES(u64), note = VALUES(note), bin = VALUES(bin)"
   end},
  {4, function() return "REPLACE INTO soak.keyed " .. keyed_columns .. " VALUES " .. keyed_row(key()) end},
  {12, function()
     return string.format("UPDATE soak.keyed SET u64 = %s, i64 = %s, u32 = %s, u8 = %s, d = %s WHERE id = %s",
                          value(v_u64()), v_i64(), v_u32(), v_u8(), v_dec(), key())
   end},
  {4, function()
     local lo, hi = low_range(40)
     return string.format("UPDATE soak.keyed SET note = %s, u16 = %s, bin = %s WHERE id BETWEEN %d AND %d",
                          v_note(), v_u16(), v_bin(), lo, hi)
   end},
  {8, function() return string.format("UPDATE IGNORE soak.keyed SET id = %s WHERE id = %s", key(), key()) end},
  {5, function()
     local d = uniform(1, 5)
     local lo, hi = low_range(30)
     if chance(500) then
       hi = math.min(hi, sysbench.opt.keys - d)
       return string.format("UPDATE IGNORE soak.keyed SET id = id + %d WHERE id BETWEEN %d AND %d ORDER BY id DESC", d, lo, hi)
     end
     lo = math.max(lo, d + 1)
     return string.format("UPDATE IGNORE soak.keyed SET id = id - %d WHERE id BETWEEN %d AND %d ORDER BY id", d, lo, hi)
   end},
  {4, function()
     local a, b = key(), key()
     return {string.format("UPDATE IGNORE soak.keyed SET id = 0 WHERE id = %s", a),
             string.format("UPDATE IGNORE soak.keyed SET id = %s WHERE id = %s", a, b),
             string.format("UPDATE IGNORE soak.keyed SET id = %s WHERE id = 0", b),
             "DELETE FROM soak.keyed WHERE id = 0"}
   end},
  {8, function() return "DELETE FROM soak.keyed WHERE id = " .. key() end},
  {2, function()
     local lo, hi = low_range(20)
     return string.format("DELETE FROM soak.keyed WHERE id BETWEEN %d AND %d", lo, hi)
   end},
}

local pair_b = {"'x0'", "'x1'", "'X1'", "'x1 '", "'x2'", "'X2'", "'y'", "'Y '", "''", "'ü'", "'U'"}
local pair_ops = {
  {6, function()
     return string.format("INSERT IGNORE INTO soak.pair (a, b, v) VALUES (%d, %s, %s)",
                          uniform(1, 100), pick(pair_b), value(v_u64()))
   end},
  {5, function()
     return string.format("UPDATE soak.pair SET v = %s WHERE a = %d", value(v_u64()), uniform(1, 100))
   end},
  {4, function()
     return string.format("UPDATE IGNORE soak.pair SET b = %s WHERE a = %d AND b = %s",
                          pick(pair_b), uniform(1, 100), pick(pair_b))
   end},
  {3, function()
     local a = uniform(1, 99)
     return string.format("UPDATE IGNORE soak.pair SET a = a + 1 WHERE a BETWEEN %d AND %d ORDER BY a DESC, b",
                          a, math.min(99, a + uniform(0, 3)))
   end},
  {4, function()
     return string.format("DELETE FROM soak.pair WHERE a = %d AND b = %s", uniform(1, 100), pick(pair_b))
   end},
}

local function code() return "'c" .. uniform(0, 199) .. "'" end
local uniq_ops = {
  {5, function()
     return string.format("INSERT IGNORE INTO soak.uniq (id, code, v) VALUES (%d, %s, %d)",
                          uniform(1, 300), code(), uniform(0, 1000))
   end},
  {4, function()
     local c = code()
     return {"DELETE FROM soak.uniq WHERE code = " .. c,
             string.format("UPDATE IGNORE soak.uniq SET code = %s WHERE id = %d", c, uniform(1, 300))}
   end},
  {3, function()
     return string.format("UPDATE IGNORE soak.uniq SET id = %d WHERE id = %d", uniform(1, 300), uniform(1, 300))
   end},
  {3, function()
     return string.format("UPDATE soak.uniq SET v = v + 1 WHERE id BETWEEN %d AND %d",
                          uniform(1, 290), uniform(1, 300))
   end},
  {3, function() return "DELETE FROM soak.uniq WHERE id = " .. uniform(1, 300) end},
}

-- Rows of a keyless table (a, b, c, n) on the given table; b's values differ
-- only in case and trailing spaces now and then.
local keyless_b = {"'k'", "'K'", "'k '", "NULL", "''", "'long value'"}
local keyless_c = {"0", "7", "18446744073709551615", "NULL"}
local function keyless_ops(t)
  return {
    {8, function()
       local a, b, c = uniform(1, 50), pick(keyless_b), pick(keyless_c)
       local rows = {}
       for i = 1, uniform(1, 3) do
         -- The second and third row repeat the first half of the time: duplicates.
         if i > 1 and chance(500) then
           rows[i] = rows[1]
         else
           rows[i] = string.format("(%d, %s, %s, %s)", a, b, c, pick({"NULL", tostring(uniform(0, 9))}))
         end
       end
       return "INSERT INTO soak." .. t .. " (a, b, c, n) VALUES " .. table.concat(rows, ", ")
     end},
    {6, function() return "DELETE FROM soak." .. t .. " WHERE a = " .. uniform(1, 50) .. " LIMIT 1" end},
    {5, function()
       return string.format("UPDATE soak.%s SET c = %s WHERE a = %d LIMIT 1", t, pick(keyless_c), uniform(1, 50))
     end},
    {3, function()
       return string.format("UPDATE soak.%s SET b = %s, n = NULL WHERE a = %d", t, pick(keyless_b), uniform(1, 50))
     end},
    {2, function() return "DELETE FROM soak." .. t .. " WHERE a = " .. uniform(1, 50) end},
  }
end

local evolving_ops = {
  {4, function()
     return string.format("INSERT IGNORE INTO soak.evolving (id, v, s) VALUES (%d, %d, %s)",
                          uniform(1, 200), uniform(0, 100000), v_note())
   end},
  {4, function()
     return string.format("UPDATE soak.evolving SET v = %d, s = %s WHERE id = %d",
                          uniform(0, 100000), v_note(), uniform(1, 200))
   end},
  {2, function() return "DELETE FROM soak.evolving WHERE id = " .. uniform(1, 200) end},
}

-- One of {weight, thing} pairs, by weight.
local function weighted(list)
  local total = 0
  for _, entry in ipairs(list) do total = total + entry[1] end
  local r = uniform(1, total)
  for _, entry in ipairs(list) do
    r = r - entry[1]
    if r <= 0 then return entry[2] end
  end
end

local tables = {{4, keyed_ops}, {2, pair_ops}, {2, uniq_ops}, {2, keyless_ops("keyless")},
                {2, keyless_ops("keyless_bin")}, {1, evolving_ops}}
local function statements()
  local s = weighted(weighted(tables))()
  if type(s) == "string" then return {s} end
  return s
end

-- -- DDL ---------------------------------------------------------------------

local ddl_tables = {"keyed", "pair", "keyless", "keyless_bin", "evolving"}
local added_types = {"INT UNSIGNED NOT NULL DEFAULT 4294967295", "BIGINT NULL",
                     "VARCHAR(10) DEFAULT 'd'", "BINARY(4) NULL",
                     "TINYINT UNSIGNED NOT NULL DEFAULT 255", "BIGINT UNSIGNED DEFAULT 18446744073709551615"}

-- Adds a column x<N> to a table that has fewer than three, else (or at random)
-- drops one of them. What a table has is read from the server: a restarted
-- load carries on from there.
local function ddl()
  local t = pick(ddl_tables)
  local rs = con:query(string.format(
    "SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'soak'" ..
    " AND TABLE_NAME = '%s' ORDER BY ORDINAL_POSITION", t))
  local all, added, highest = {}, {}, 0
  for _ = 1, rs.nrows do
    local name = rs:fetch_row()[1]
    all[#all + 1] = name
    local n = name:match("^x(%d+)$")
    if n then
      added[#added + 1] = name
      highest = math.max(highest, tonumber(n))
    end
  end
  local statement
  if #added >= 3 or (#added > 0 and chance(400)) then
    statement = string.format("ALTER TABLE soak.%s DROP COLUMN %s", t, pick(added))
  else
    local where = pick({"", "", " FIRST", " AFTER " .. all[2]})
    statement = string.format("ALTER TABLE soak.%s ADD COLUMN x%d %s%s", t, highest + 1,
                              pick(added_types), where)
  end
  print("ddl: " .. statement)
  con:query(statement)
end

-- -- sysbench entry points ---------------------------------------------------

function prepare()
  local drv = sysbench.sql.driver()
  local c = drv:connect()
  local keys = sysbench.opt.keys
  for _, s in ipairs({
    "CREATE DATABASE IF NOT EXISTS soak",
    "CREATE TABLE soak.keyed (id BIGINT UNSIGNED NOT NULL PRIMARY KEY, u64 BIGINT UNSIGNED NOT NULL," ..
      " i64 BIGINT, u32 INT UNSIGNED, u24 MEDIUMINT UNSIGNED, u16 SMALLINT UNSIGNED," ..
      " u8 TINYINT UNSIGNED, i8 TINYINT, d DECIMAL(20,0) UNSIGNED, bin BINARY(8), note VARCHAR(40))",
    "CREATE TABLE soak.pair (a INT UNSIGNED NOT NULL, b VARCHAR(8) NOT NULL, v BIGINT UNSIGNED," ..
      " PRIMARY KEY (a, b))",
    "CREATE TABLE soak.uniq (id INT UNSIGNED NOT NULL PRIMARY KEY, code VARCHAR(16) NOT NULL," ..
      " v INT, UNIQUE KEY code (code))",
    "CREATE TABLE soak.keyless (a INT UNSIGNED, b VARCHAR(12), c BIGINT UNSIGNED, n TINYINT)",
    "CREATE TABLE soak.keyless_bin (a INT UNSIGNED, b VARBINARY(12), c BIGINT UNSIGNED, n TINYINT)",
    "CREATE TABLE soak.evolving (id INT UNSIGNED NOT NULL PRIMARY KEY, v INT, s VARCHAR(40))",
    "INSERT INTO soak.keyed (id, u64, i64, u32, u24, u16, u8, i8, d, bin, note)" ..
      " SELECT seq, seq * 1000003, CAST(seq AS SIGNED) - 5000, seq * 7, seq, seq, seq % 256," ..
      " CAST(seq % 128 AS SIGNED) - 64, seq * 11, UNHEX(LPAD(HEX(seq), 8, '0')), CONCAT('row ', seq)" ..
      " FROM seq_2_to_" .. keys .. "_step_2",
    "INSERT INTO soak.keyed (id, u64, i64, u32, u24, u16, u8, i8, d, bin, note) VALUES" ..
      " (18446744073709551615, 18446744073709551615, -9223372036854775808, 4294967295, 16777215," ..
      " 65535, 255, -128, 99999999999999999999, X'FF', 'top')," ..
      " (9223372036854775808, 9223372036854775808, 9223372036854775807, 2147483648, 8388608," ..
      " 32768, 128, 127, 18446744073709551616, X'80', 'middle')",
    "INSERT INTO soak.pair (a, b, v) SELECT seq, 'x1', seq FROM seq_1_to_100",
    "INSERT INTO soak.uniq (id, code, v) SELECT seq, CONCAT('c', seq), seq FROM seq_1_to_150",
    "INSERT INTO soak.keyless (a, b, c, n) SELECT seq % 50 + 1, IF(seq % 3, 'k', NULL), seq, NULL" ..
      " FROM seq_1_to_150",
    "INSERT INTO soak.keyless_bin SELECT * FROM soak.keyless",
    "INSERT INTO soak.evolving (id, v, s) SELECT seq, seq, 's' FROM seq_1_to_100",
  }) do
    c:query(s)
  end
  c:disconnect()
end

function thread_init()
  io.stdout:setvbuf("line")
  con = sysbench.sql.driver():connect()
end

function thread_done()
  con:disconnect()
end

-- A statement that failed with an error sysbench ignores (by default deadlocks
-- and lock wait timeouts) restarts the event: roll back what it did first.
function sysbench.hooks.before_restart_event(err)
  pcall(con.query, con, "ROLLBACK")
end

function event()
  local every = sysbench.opt.ddl_every
  if every > 0 and uniform(1, every) == 1 then
    ddl()
    return
  end
  local autocommit = chance(150)
  if not autocommit then con:query("BEGIN") end
  local n = autocommit and 1 or uniform(1, 4)
  for _ = 1, n do
    for _, s in ipairs(statements()) do con:query(s) end
  end
  -- Now and then one transaction over most of soak.keyed: more rows than a batch.
  if not autocommit and chance(3) then
    con:query(string.format("UPDATE soak.keyed SET note = 'sweep %d' WHERE id <= %d",
                            uniform(0, 999), sysbench.opt.keys))
  end
  if not autocommit then con:query(chance(30) and "ROLLBACK" or "COMMIT") end
end
