-- The portal database's rows. generate-portal-db.sh expands this as a bash here-document (row
-- counts, the seed, the R and para helpers), so keep shell syntax out of its SQL but for those.
-- Word and paragraph pools (temporary, not part of the output) ----------------------------------
.testctrl prng_seed $SEED
CREATE TEMP TABLE words (id INTEGER PRIMARY KEY, w TEXT NOT NULL);
INSERT INTO temp.words (w) VALUES
 ('the'),('the'),('a'),('to'),('and'),('of'),('is'),('it'),('we'),('you'),('please'),('thanks'),
 ('printer'),('router'),('password'),('reset'),('VPN'),('outage'),('invoice'),('firewall'),('email'),
 ('DNS'),('certificate'),('backup'),('restore'),('latency'),('ticket'),('urgent'),('laptop'),
 ('driver'),('update'),('Windows'),('macOS'),('Linux'),('license'),('server'),('database'),('error'),
 ('timeout'),('HTTP 500'),('404'),('customer'),('issue'),('resolved'),('escalate'),('again'),
 ('cannot'),('login'),('after'),('since'),('yesterday'),('morning'),('office'),('network'),('Wi-Fi'),
 ('slow'),('screen'),('keyboard'),('mailbox'),('quota'),('exceeded'),('SSO'),('token'),('expired'),
 ('rebooted'),('works'),('now'),('still'),('broken'),('see'),('attached'),('log'),('screenshot'),
 ('C:\Users\Public'),('/var/log/syslog'),('50%'),('100_000'),('it''s'),('don''t'),('O''Brien'),
 ('"quoted"'),('«guillemets»'),('café'),('naïve'),('Zürich'),('São Paulo'),('Kraków'),('Ærøskøbing'),
 ('straße'),('Ελληνικά'),('Москва'),('東京'),('北京市'),('データベース'),('서울'),('مرحبا'),('שלום'),
 ('हिन्दी'),('ไทย'),('🚀'),('👍🏽'),('🔥'),('✅'),('🙏'),('👨‍👩‍👧'),('€'),('£'),('¥'),('—'),('…'),
 ('😀'),('tab' || char(9) || 'separated'),('semi;colon'),('back\slash'),('percent%'),('NULL'),('-- not a comment');
CREATE TEMP TABLE para (id INTEGER PRIMARY KEY, t TEXT NOT NULL);
WITH RECURSIVE
  p(id) AS (SELECT 0 UNION ALL SELECT id + 1 FROM p WHERE id < 4095),
  w(pid, k, n, txt) AS (
    SELECT id, 1, 8 + $R % 70, (SELECT w FROM temp.words WHERE id = 1 + ($R + p.id * 0) % (SELECT count(*) FROM temp.words)) FROM p
    UNION ALL
    SELECT pid, k + 1, n,
           txt || CASE $R % 16 WHEN 0 THEN '. ' WHEN 1 THEN ', ' WHEN 2 THEN char(10) WHEN 3 THEN '! ' ELSE ' ' END
               || (SELECT w FROM temp.words WHERE id = 1 + ($R + k * 0) % (SELECT count(*) FROM temp.words))
    FROM w WHERE k < n)
INSERT INTO temp.para (id, t) SELECT pid, txt || '.' FROM w WHERE k = n;

-- Data -----------------------------------------------------------------------------------------
.testctrl prng_seed $((SEED + 1))
WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < $N_ORGS)
INSERT INTO organizations (id, name, slug, country_code, plan, external_id, credit_limit, settings, created_at)
SELECT i,
       (SELECT w FROM temp.words WHERE id = 1 + ($R + i * 0) % (SELECT count(*) FROM temp.words)) || ' Support Ltd. #' || i,
       'org-' || i,
       CASE $R % 8 WHEN 0 THEN 'DE' WHEN 1 THEN 'FR' WHEN 2 THEN 'JP' WHEN 3 THEN 'BR' WHEN 4 THEN 'US' WHEN 5 THEN 'IL' WHEN 6 THEN 'KR' ELSE NULL END,
       CASE $R % 4 WHEN 0 THEN 'free' WHEN 1 THEN 'standard' WHEN 2 THEN 'premium' ELSE 'enterprise' END,
       CASE i WHEN 1 THEN 9223372036854775807 WHEN 2 THEN -9223372036854775808 WHEN 3 THEN 0 ELSE random() END,
       CASE i WHEN 1 THEN 0.1 + 0.2 WHEN 2 THEN 1.7976931348623157e308 WHEN 3 THEN -0.0 WHEN 4 THEN 4.9e-324 ELSE round($R / 1000.0, 2) END,
       json_object('timezone', 'Europe/Zürich', 'sla_hours', 4 + $R % 44, 'features', json_array('portal', 'invoices', '🚀'), 'motd', $(para i)),
       datetime($T0 + i * ($SPAN / 10 / $N_ORGS), 'unixepoch')
FROM s;

.testctrl prng_seed $((SEED + 2))
WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < $N_USERS)
INSERT INTO users (id, organization_id, email, display_name, role, password_hash, is_active, bio, avatar, last_login_at, created_at)
SELECT i,
       1 + (i - 1) * $N_ORGS / $N_USERS,
       'user' || i || '@example-' || (1 + (i - 1) * $N_ORGS / $N_USERS) || '.test',
       CASE $R % 6 WHEN 0 THEN 'José Müller' WHEN 1 THEN '山田 太郎' WHEN 2 THEN 'Zoë O''Connor' WHEN 3 THEN 'Σωκράτης' WHEN 4 THEN 'Amélie "Ami" Dupont' ELSE 'Sam 😀 Lee' END || ' ' || i,
       CASE WHEN $R % 10 = 0 THEN 'admin' WHEN $R % 3 = 0 THEN 'agent' ELSE 'client' END,
       '\$argon2id\$v=19\$m=65536,t=3,p=4\$' || hex(randomblob(16)) || '\$' || hex(randomblob(32)),
       $R % 20 <> 0,
       CASE WHEN $R % 3 = 0 THEN NULL ELSE $(para i) END,
       CASE WHEN $R % 4 = 0 THEN randomblob(1024 + $R % 7168) ELSE NULL END,
       CASE WHEN $R % 5 = 0 THEN NULL ELSE strftime('%Y-%m-%dT%H:%M:%fZ', $T0 + $SPAN + $R % 8640000 / 100.0, 'unixepoch') END,
       datetime($T0 + i * ($SPAN / 5 / $N_USERS), 'unixepoch')
FROM s;

.testctrl prng_seed $((SEED + 3))
WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < $N_CLIENTS)
INSERT INTO clients (id, organization_id, contact_user_id, name, phone, address, tax_id, balance, notes, created_at)
SELECT i,
       1 + (i - 1) * $N_ORGS / $N_CLIENTS,
       CASE WHEN $R % 7 = 0 THEN NULL ELSE 1 + $R % $N_USERS END,
       CASE $R % 5 WHEN 0 THEN 'Bäckerei Schmidt GmbH' WHEN 1 THEN '株式会社サンプル' WHEN 2 THEN 'L''Atelier du Café' WHEN 3 THEN 'ООО «Ромашка»' ELSE 'Acme "Widgets" & Co.' END || ' (' || i || ')',
       CASE WHEN $R % 4 = 0 THEN NULL ELSE printf('+%d %03d %07d', 1 + $R % 98, $R % 1000, $R % 10000000) END,
       printf('%d Rue de l''Église%sApt. %d%s%05d Montréal', 1 + $R % 300, char(10), 1 + $R % 90, char(10), $R % 100000),
       CASE WHEN $R % 3 = 0 THEN NULL ELSE printf('DE%09d', $R % 1000000000) END,
       CASE WHEN i % 50 = 0 THEN 0.0 ELSE ($R - 1073741824) / 997.0 END,
       CASE WHEN $R % 2 = 0 THEN NULL ELSE $(para i) END,
       datetime($T0 + i * ($SPAN / 4 / $N_CLIENTS), 'unixepoch')
FROM s;

.testctrl prng_seed $((SEED + 4))
WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < $N_TAGS)
INSERT INTO tags (id, organization_id, name, color)
SELECT i, 1 + (i - 1) * $N_ORGS / $N_TAGS,
       (SELECT w FROM temp.words WHERE id = 1 + (i * 7) % (SELECT count(*) FROM temp.words)) || '-' || i,
       CASE WHEN $R % 5 = 0 THEN NULL ELSE printf('#%06x', $R % 16777216) END
FROM s;

.testctrl prng_seed $((SEED + 5))
WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < $N_KB)
INSERT INTO knowledge_base_articles (id, organization_id, author_id, title, slug, body, views, helpful_ratio, published_at, updated_at)
SELECT i, 1 + (i - 1) * $N_ORGS / $N_KB, 1 + $R % $N_USERS,
       'How to fix: ' || $(para i),
       'kb-' || i,
       '# Problem' || char(10) || $(para i) || char(10) || char(10) || '## Steps' || char(10)
         || '1. ' || $(para i) || char(10) || '2. ' || $(para i) || char(10) || '3. ' || $(para i) || char(10)
         || '\`\`\`' || char(10) || 'sudo systemctl restart "backstream" && echo ''done''' || char(10) || '\`\`\`' || char(10)
         || '## Why' || char(10) || $(para i) || char(10) || $(para i) || char(10) || $(para i) || char(10) || $(para i)
         || char(10) || $(para i) || char(10) || $(para i) || char(10) || $(para i) || char(10) || $(para i),
       $R % 100000,
       CASE WHEN $R % 6 = 0 THEN NULL ELSE $R / 2147483647.0 END,
       CASE WHEN $R % 4 = 0 THEN NULL ELSE datetime($T0 + $R % $SPAN, 'unixepoch') END,
       datetime($T0 + $R % $SPAN, 'unixepoch')
FROM s;

.testctrl prng_seed $((SEED + 6))
WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < $N_TICKETS),
  t(i, c, st) AS (SELECT i, $T0 + i * ($SPAN / $N_TICKETS) + $R % 3600,
                         CASE $R % 5 WHEN 0 THEN 'open' WHEN 1 THEN 'pending' WHEN 2 THEN 'in_progress' ELSE 'closed' END FROM s)
INSERT INTO tickets (id, client_id, opened_by, assigned_to, subject, description, status, priority, sla_minutes, created_at, updated_at, closed_at)
SELECT i, 1 + $R % $N_CLIENTS, 1 + $R % $N_USERS,
       CASE WHEN $R % 5 = 0 THEN NULL ELSE 1 + $R % $N_USERS END,
       substr($(para i), 1, 20 + $R % 60),
       $(para i) || char(10) || char(10) || $(para i) || CASE WHEN $R % 2 = 0 THEN char(13) || char(10) || $(para i) ELSE '' END,
       st, 1 + $R % 5,
       CASE WHEN $R % 3 = 0 THEN NULL ELSE 60 * (1 + $R % 48) END,
       datetime(c, 'unixepoch'),
       datetime(c + $R % 864000, 'unixepoch'),
       CASE WHEN st = 'closed' THEN datetime(c + 864000 + $R % 864000, 'unixepoch') ELSE NULL END
FROM t;

.testctrl prng_seed $((SEED + 7))
WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < $N_COMMENTS)
INSERT INTO ticket_comments (id, ticket_id, author_id, body, is_internal, created_at)
SELECT i, 1 + (i - 1) * $N_TICKETS / $N_COMMENTS, 1 + $R % $N_USERS,
       CASE $R % 4
         WHEN 0 THEN $(para i)
         WHEN 1 THEN 'Hi,' || char(10) || char(10) || $(para i) || char(10) || char(10) || '> ' || $(para i) || char(10) || char(10) || 'Best regards,' || char(10) || '— Support 🙏'
         ELSE $(para i) || char(10) || $(para i)
       END,
       $R % 4 = 0,
       strftime('%Y-%m-%d %H:%M:%f', $T0 + i * ($SPAN / $N_COMMENTS) + ($R % 100000) / 1000.0, 'unixepoch')
FROM s;

.testctrl prng_seed $((SEED + 8))
WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < $N_ATTACH),
  a(i, tk, kind, sz) AS (SELECT i, 1 + (i - 1) * $N_TICKETS / $N_ATTACH, $R % 10,
                                CASE WHEN $R % 10 = 0 THEN 65536 + $R % 196608 ELSE 1024 + $R % 40960 END FROM s),
  b(i, tk, kind, data) AS (SELECT i, tk, kind,
       CASE WHEN kind < 3 THEN CAST(substr(printf('%s%s%s%s%s%s%s%s', $(para i), char(10), $(para i), char(10), $(para i), char(10), $(para i), char(10)), 1, sz / 4) AS BLOB)
            ELSE randomblob(sz) END FROM a)
INSERT INTO attachments (id, ticket_id, comment_id, filename, mime_type, size_bytes, sha1, data, uploaded_at)
SELECT i, tk,
       CASE WHEN $R % 3 = 0 THEN NULL ELSE ((tk - 1) * $N_COMMENTS + $N_TICKETS - 1) / $N_TICKETS + 1 END,
       CASE kind WHEN 0 THEN 'système.log' WHEN 1 THEN 'error output.txt' WHEN 2 THEN 'ログ.txt'
                 WHEN 3 THEN 'screenshot ' || i || '.png' WHEN 4 THEN 'invoice "final".pdf' WHEN 5 THEN 'photo_📷.jpg'
                 ELSE 'archive-' || i || '.zip' END,
       CASE WHEN kind < 3 THEN 'text/plain; charset=utf-8' WHEN kind IN (3, 5) THEN 'image/' || CASE kind WHEN 3 THEN 'png' ELSE 'jpeg' END
            WHEN kind = 4 THEN 'application/pdf' ELSE 'application/zip' END,
       length(data),
       CASE WHEN $R % 8 = 0 THEN NULL ELSE lower(hex(randomblob(20))) END,
       data,
       datetime($T0 + tk * ($SPAN / $N_TICKETS) + $R % 86400, 'unixepoch')
FROM b;

.testctrl prng_seed $((SEED + 9))
WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < $N_TICKET_TAGS)
INSERT INTO ticket_tags (ticket_id, tag_id, added_at)
SELECT 1 + (i - 1) * $N_TICKETS / $N_TICKET_TAGS, 1 + $R % $N_TAGS,
       CASE WHEN $R % 3 = 0 THEN NULL ELSE datetime($T0 + $R % $SPAN, 'unixepoch') END
FROM s;

.testctrl prng_seed $((SEED + 10))
WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < $N_INVOICES),
  v(i, sub, rate) AS (SELECT i, ($R % 5000000) / 100.0, CASE $R % 4 WHEN 0 THEN 0.0 WHEN 1 THEN 0.07 WHEN 2 THEN 0.19 ELSE 0.2 END FROM s)
INSERT INTO invoices (id, client_id, number, currency, subtotal, tax, total, status, notes, issued_at, due_at)
SELECT i, 1 + $R % $N_CLIENTS, printf('INV-%04d-%06d', 2020 + i * 5 / ($N_INVOICES + 1), i),
       CASE $R % 4 WHEN 0 THEN 'USD' WHEN 1 THEN 'JPY' ELSE 'EUR' END,
       sub, sub * rate, sub + sub * rate,
       CASE $R % 4 WHEN 0 THEN 'draft' WHEN 1 THEN 'sent' ELSE 'paid' END,
       CASE WHEN $R % 3 = 0 THEN NULL ELSE 'Zahlbar innerhalb 30 Tagen — merci! ' || $(para i) END,
       date($T0 + i * ($SPAN / $N_INVOICES), 'unixepoch'),
       CASE WHEN $R % 6 = 0 THEN NULL ELSE date($T0 + i * ($SPAN / $N_INVOICES) + 2592000, 'unixepoch') END
FROM v;

.testctrl prng_seed $((SEED + 11))
WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < $N_ITEMS),
  q(i, qty, price) AS (SELECT i, CASE WHEN $R % 3 = 0 THEN ($R % 1000) / 4.0 ELSE 1.0 END, ($R % 2000000) / 100.0 FROM s)
INSERT INTO invoice_items (id, invoice_id, ticket_id, description, quantity, unit_price, amount)
SELECT i, 1 + (i - 1) * $N_INVOICES / $N_ITEMS,
       CASE WHEN $R % 2 = 0 THEN NULL ELSE 1 + $R % $N_TICKETS END,
       CASE $R % 4 WHEN 0 THEN 'Remote support (hourly) — Fernwartung' WHEN 1 THEN 'On-site visit: 東京オフィス'
                   WHEN 2 THEN 'License renewal "Pro" 12 months' ELSE substr($(para i), 1, 120) END,
       qty, price, qty * price
FROM q;

.testctrl prng_seed $((SEED + 12))
WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < $N_PAYMENTS)
INSERT INTO payments (id, invoice_id, amount, fx_rate, method, gateway_txn_id, reference, paid_at)
SELECT i, 1 + (i - 1) * $N_INVOICES / $N_PAYMENTS,
       ($R % 5000000) / 100.0,
       CASE WHEN $R % 3 = 0 THEN NULL ELSE 0.5 + $R / 2147483647.0 END,
       CASE $R % 4 WHEN 0 THEN 'card' WHEN 1 THEN 'sepa' WHEN 2 THEN 'wire' ELSE 'paypal' END,
       CASE WHEN $R % 5 = 0 THEN NULL ELSE random() END,
       CASE WHEN $R % 4 = 0 THEN NULL ELSE 'Überweisung ' || printf('%016X', random()) END,
       strftime('%Y-%m-%dT%H:%M:%SZ', $T0 + i * ($SPAN / $N_PAYMENTS) + $R % 86400, 'unixepoch')
FROM s;

.testctrl prng_seed $((SEED + 13))
WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < $N_ACTIVITY),
  e(i, kind) AS (SELECT i, $R % 8 FROM s)
INSERT INTO activity_log (id, user_id, action, details, created_at)
SELECT i,
       CASE WHEN $R % 10 = 0 THEN NULL ELSE 1 + $R % $N_USERS END,
       CASE kind WHEN 0 THEN 'login' WHEN 1 THEN 'ticket.create' WHEN 2 THEN 'ticket.update' WHEN 3 THEN 'comment.add'
                 WHEN 4 THEN 'invoice.send' WHEN 5 THEN 'payment.receive' WHEN 6 THEN 'attachment.upload' ELSE 'kb.view' END,
       CASE WHEN kind = 0 THEN json_object('ip', printf('%d.%d.%d.%d', $R % 256, $R % 256, $R % 256, $R % 256),
                                           'user_agent', 'Mozilla/5.0 (X11; Linux x86_64) Firefox/' || (100 + $R % 30) || '.0',
                                           'mfa', json(CASE WHEN $R % 2 = 0 THEN 'true' ELSE 'false' END))
            WHEN kind = 7 THEN NULL
            ELSE json_object('ticket_id', 1 + $R % $N_TICKETS,
                             'changes', json_object('status', json_array('open', 'in_progress'), 'priority', json_array($R % 5, $R % 5)),
                             'note', substr($(para i), 1, 40 + $R % 200),
                             'request_id', random())
       END,
       ($T0 + i * ($SPAN / $N_ACTIVITY)) * 1000 + $R % 1000
FROM e;

