document.getElementById('signin').addEventListener('submit', (e) => {
  e.preventDefault();
  const t = document.getElementById('token').value.trim();
  sessionStorage.setItem('backstream_token', t);
  // The server sets the session cookie (HttpOnly): this script never sees it again.
  fetch('/admin/session', { method: 'POST', headers: { Authorization: 'Bearer ' + t } }).then(() => location.reload());
});
