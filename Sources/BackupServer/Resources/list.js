const api = document.getElementById('backups').dataset.api;
const token = () => sessionStorage.getItem('backstream_token') || '';
const message = (text, ok) => { const m = document.getElementById('message'); m.textContent = text; m.className = ok ? 'ok' : 'error'; };
const flash = sessionStorage.getItem('backstream_flash');
if (flash) { sessionStorage.removeItem('backstream_flash'); const f = JSON.parse(flash); message(f.text, f.ok); }
async function call(method, url) {
  const r = await fetch(url, { method, headers: { Authorization: 'Bearer ' + token() } });
  let body = {};
  try { body = await r.json(); } catch (e) {}
  return { status: r.status, body };
}
function reloadWith(text, ok) { sessionStorage.setItem('backstream_flash', JSON.stringify({ text, ok })); location.reload(); }
document.getElementById('create').addEventListener('click', async (e) => {
  e.target.disabled = true; message('Creating backup…', true);
  const r = await call('POST', api);
  if (r.status === 200) reloadWith('Created ' + r.body.key + ' (' + r.body.size + ' bytes)', true);
  else { e.target.disabled = false; message('Backup failed (' + r.status + '): ' + (r.body.error || ''), false); }
});
document.getElementById('cleanup').addEventListener('click', async () => {
  const r = await call('DELETE', api);
  if (r.status === 200) reloadWith('Deleted ' + r.body.deleted_count + ' old backups', true);
  else message('Clean-up failed (' + r.status + '): ' + (r.body.error || ''), false);
});
document.getElementById('signout').addEventListener('click', () => {
  sessionStorage.removeItem('backstream_token');
  fetch('/admin/session', { method: 'DELETE' }).then(() => location.reload());
});
for (const row of document.querySelectorAll('#backups tbody tr')) {
  const key = row.dataset.key, result = row.querySelector('.result');
  row.querySelector('.verify').addEventListener('click', async () => {
    result.textContent = 'verifying…'; result.className = 'result';
    const r = await call('POST', api + '/' + key + '/verify');
    const ok = r.status === 200 && r.body.ok;
    result.textContent = ok ? 'verified: ' + r.body.rows + ' rows, integrity ' + r.body.integrity_check
                            : 'failed (' + r.status + '): ' + (r.body.error || (r.body.problems || []).join('; '));
    result.className = 'result ' + (ok ? 'ok' : 'error');
  });
  row.querySelector('.download').addEventListener('click', async () => {
    const r = await fetch(api + '/' + key + '/download', { headers: { Authorization: 'Bearer ' + token() } });
    if (!r.ok) { message('Download failed (' + r.status + ')', false); return; }
    const a = document.createElement('a');
    a.href = URL.createObjectURL(await r.blob());
    a.download = decodeURIComponent(key).split('/').pop();
    document.body.appendChild(a); a.click(); a.remove();
  });
}
