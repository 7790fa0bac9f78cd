"""The console's page shell: one stylesheet (with a print stylesheet), the navigation, and the few lines of
JavaScript that apply the server-rendered panels arriving on the event stream. No build step, no network."""

from __future__ import annotations

from html import escape

CSS = """
:root{--bad:#c62828;--good:#2e7d32;--warn:#ef6c00;--dim:#757575}
body{font-family:system-ui,Helvetica,Arial,sans-serif;margin:0;color:#212121;background:#fafafa}
header{background:#263238;color:#fff;padding:8px 16px;display:flex;gap:18px;align-items:center}
header a{color:#fff;text-decoration:none}header b{font-size:18px}
main{padding:12px 16px;max-width:1400px}
.status{font-size:20px;margin:6px 0 12px}.pill{padding:2px 10px;border-radius:12px;background:#e0e0e0;margin-right:6px}
.pill.bad{background:var(--bad);color:#fff}.pill.good{background:var(--good);color:#fff}
.pill.warn{background:var(--warn);color:#fff}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(320px,1fr));gap:10px}
.box{background:#fff;border:1px solid #ddd;border-radius:6px;padding:8px 12px}.box.wide{grid-column:1/-1}
.box h3{margin:0 0 6px;font-size:14px;color:#455a64}
.figs{display:flex;gap:16px}.figs b{display:block;font-size:26px}
.bad{color:var(--bad)}.good{color:var(--good)}.warn{color:var(--warn)}.dim{color:var(--dim)}
table{border-collapse:collapse}td,th{border-bottom:1px solid #eee;padding:3px 8px;text-align:left;font-size:13px}
#rto b{font-size:30px}svg.chart{max-width:100%;height:auto}
button{font-size:16px;padding:6px 18px;margin:4px;cursor:pointer}
button.abort{background:var(--bad);color:#fff;font-size:28px;font-weight:bold;padding:18px 48px;border:0;
border-radius:8px}
.step{border-left:4px solid #ccc;padding:4px 10px;margin:8px 0;background:#fff}.step.current{border-color:var(--warn)}
.step pre{white-space:pre-wrap;font-size:12px;margin:4px 0}textarea{width:100%;min-height:60px}
.chart-box{break-inside:avoid;page-break-inside:avoid}
@media print{header,form,button,.noprint{display:none!important}body{background:#fff}
main{max-width:none;padding:0}.box{border:0}.card{break-inside:avoid;page-break-inside:avoid}
a{color:inherit;text-decoration:none}@page{margin:14mm}}
"""

JS = """
(function(){
  var url = document.body.getAttribute('data-stream'); if(!url) return;
  var source = new EventSource(url);
  source.addEventListener('panels', function(e){
    var panels = JSON.parse(e.data);
    for (var id in panels){ var el = document.getElementById(id); if (el) el.innerHTML = panels[id]; }
    document.body.setAttribute('data-updated', String(Date.now()));
  });
})();
"""


def page(title: str, body: str, *, stream: str | None = None) -> str:
    """A whole console page; ``stream``: the event stream whose panels fill the page's boxes."""
    attr = f" data-stream='{escape(stream)}'" if stream else ""
    return ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width,initial-scale=1'>"
            f"<title>{escape(title)} · aftershock</title><style>{CSS}</style></head><body{attr}>"
            "<header><b>aftershock</b><a href='/'>runs</a><a href='/gameday'>game day</a>"
            "<a href='/scorecard'>scorecards</a></header>"
            f"<main>{body}</main><script>{JS}</script></body></html>")


def csrf_field(token: str) -> str:
    return f"<input type='hidden' name='csrf' value='{escape(token)}'>"


__all__ = ["CSS", "csrf_field", "page"]
