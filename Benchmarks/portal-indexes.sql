-- The portal database's indexes, view and trigger, fed last so the rows load without them.
-- Indexes, a view and a trigger ------------------------------------------------------------------
CREATE INDEX users_organization ON users (organization_id);
CREATE INDEX clients_organization ON clients (organization_id);
CREATE INDEX tickets_client_status ON tickets (client_id, status);
CREATE INDEX tickets_assigned ON tickets (assigned_to) WHERE assigned_to IS NOT NULL;
CREATE INDEX ticket_comments_ticket ON ticket_comments (ticket_id, created_at);
CREATE INDEX attachments_ticket ON attachments (ticket_id);
CREATE INDEX ticket_tags_tag ON ticket_tags (tag_id, ticket_id);
CREATE INDEX invoices_client ON invoices (client_id, issued_at);
CREATE INDEX invoice_items_invoice ON invoice_items (invoice_id);
CREATE INDEX payments_invoice ON payments (invoice_id);
CREATE INDEX activity_log_user_time ON activity_log (user_id, created_at);
CREATE VIEW open_tickets AS
    SELECT t.id, t.subject, c.name AS client, t.priority, t.created_at
    FROM tickets t JOIN clients c ON c.id = t.client_id
    WHERE t.status <> 'closed';
CREATE TRIGGER tickets_status_audit AFTER UPDATE OF status ON tickets
BEGIN
    INSERT INTO activity_log (user_id, action, details, created_at)
    VALUES (NEW.assigned_to, 'ticket.status', json_object('ticket_id', NEW.id, 'from', OLD.status, 'to', NEW.status),
            CAST(strftime('%s', 'now') AS INTEGER) * 1000);
END;
ANALYZE;
