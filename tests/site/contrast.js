() => {
  function parse(c) { const m = c.match(/rgba?\(([^)]+)\)/); if (!m) return null;
    const p = m[1].split(',').map(x => parseFloat(x)); return {r:p[0], g:p[1], b:p[2], a: p.length > 3 ? p[3] : 1}; }
  function lum(c) { const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b); }
  function bg(el) { while (el) { const c = parse(getComputedStyle(el).backgroundColor); if (c && c.a > 0.5) return c; el = el.parentElement; }
    return {r:255,g:255,b:255,a:1}; }
  function ratio(el) { const b = bg(el), f0 = parse(getComputedStyle(el).color);
    const fg = {r: f0.r * f0.a + b.r * (1 - f0.a), g: f0.g * f0.a + b.g * (1 - f0.a), b: f0.b * f0.a + b.b * (1 - f0.a)};
    const l1 = lum(fg), l2 = lum(b); return (Math.max(l1,l2) + 0.05) / (Math.min(l1,l2) + 0.05); }
  const picks = {
    "body text": ".md-typeset p",
    "link": ".md-typeset p a",
    "header title": ".md-header__topic .md-ellipsis",
    "primary button": ".md-typeset .md-button--primary",
    "button": ".md-typeset .md-button:not(.md-button--primary)",
    "nav link": ".md-nav__link",
    "run line": ".lesson-run",
    "code": ".highlight-ipynb .n, .highlight-ipynb pre",
    "output": ".jp-OutputArea-output pre",
    "solution summary": "details.solution > summary",
  };
  const out = {};
  for (const [name, sel] of Object.entries(picks)) { const el = document.querySelector(sel); if (el) out[name] = Math.round(ratio(el) * 100) / 100; }
  return out;
}
