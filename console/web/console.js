// merchgate console: a client of the admin API and nothing else. The admin key lives in
// sessionStorage (this tab only) and travels only in the Authorization header. Everything shown
// is built with DOM nodes and textContent, never innerHTML, so data cannot become markup.
(function () {
  'use strict';

  const KEY_STORAGE = 'merchgate.adminKey';
  const $ = (sel) => document.querySelector(sel);
  let refreshTimer = null;
  let renderToken = 0;
  let cache = { types: null };

  // ---- DOM --------------------------------------------------------------------------------

  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === 'class') el.className = v;
      else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
      else if (k === 'value') el.value = v;
      else if (k === 'checked') el.checked = !!v;
      else el.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined || c === false) continue;
      el.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return el;
  }

  function badge(text, tone) {
    return h('span', { class: 'badge ' + (tone || '') }, text);
  }

  const STATUS_TONE = {
    requires_payment: 'info', paid: 'info', fulfilling: 'info', fulfilled: 'ok', delivered: 'ok',
    shipped: 'ok', succeeded: 'ok', payment_failed: 'bad', failed: 'bad', canceled: 'warn',
    refunded: 'warn', partially_refunded: 'warn', pending: '', submitted: 'info',
    in_production: 'info', active: 'ok', failing: 'bad', disabled: 'warn',
  };
  function statusBadge(s) {
    return badge(s || '-', STATUS_TONE[s] || '');
  }

  function money(amount, currency) {
    if (typeof amount !== 'number') return '-';
    try {
      const digits = new Intl.NumberFormat('en', { style: 'currency', currency })
        .resolvedOptions().maximumFractionDigits;
      return new Intl.NumberFormat(undefined, { style: 'currency', currency })
        .format(amount / Math.pow(10, digits));
    } catch (e) {
      return amount + ' ' + (currency || '');
    }
  }

  function when(t) {
    if (!t) return '-';
    const d = new Date(typeof t === 'number' ? t * 1000 : t);
    return isNaN(d) ? String(t) : d.toLocaleString();
  }

  function text(v) {
    if (v === null || v === undefined || v === '') return '-';
    if (typeof v === 'object') return JSON.stringify(v);
    return String(v);
  }

  function table(columns, rows, opts) {
    opts = opts || {};
    if (!rows.length) return h('div', { class: 'empty' }, opts.empty || 'Nothing here yet.');
    return h('table', { id: opts.id },
      h('thead', {}, h('tr', {}, columns.map((c) => h('th', {}, c.title)))),
      h('tbody', {}, rows.map((r) => h('tr', {
        class: opts.onclick ? 'clickable' : null,
        'data-id': r.id || r.sku || null,
        onclick: opts.onclick ? () => opts.onclick(r) : null,
      }, columns.map((c) => h('td', { class: c.class }, c.render ? c.render(r) : text(r[c.key])))))));
  }

  function page(title, actions, ...body) {
    return [h('div', { class: 'page-head' }, h('h1', {}, title),
      h('div', { class: 'actions' }, actions || [])), ...body];
  }

  function card(...children) {
    return h('div', { class: 'card' }, ...children);
  }

  function notice(message, tone) {
    const n = $('#notice');
    if (!message) { n.hidden = true; return; }
    n.className = 'notice ' + (tone || 'ok');
    n.textContent = message;
    n.hidden = false;
  }

  // ---- API --------------------------------------------------------------------------------

  class ApiError extends Error {
    constructor(status, body) {
      const e = (body && body.error) || {};
      super(e.message || ('HTTP ' + status));
      this.status = status;
      this.type = e.type;
      this.code = e.code;
      this.param = e.param;
    }
  }

  async function api(method, path, body) {
    const key = sessionStorage.getItem(KEY_STORAGE);
    const init = { method, headers: { Authorization: 'Bearer ' + key, Accept: 'application/json' },
      cache: 'no-store', credentials: 'omit' };
    if (body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    const res = await fetch(path, init);
    let json = null;
    try { json = await res.json(); } catch (e) { json = null; }
    if (res.status === 401) {
      signOut('Your key was refused (it may have been revoked). Sign in again.');
      throw new ApiError(res.status, json);
    }
    if (!res.ok) throw new ApiError(res.status, json);
    return json;
  }

  function errorText(e) {
    let s = e.message || String(e);
    if (e.param) s += ' (' + e.param + ')';
    if (e.status === 403) s = 'This key may not do that: ' + s;
    return s;
  }

  async function adapterTypes() {
    if (!cache.types) cache.types = (await api('GET', '/v1/admin/adapter-types')).data;
    return cache.types;
  }

  async function all(path) {
    const sep = path.includes('?') ? '&' : '?';
    return (await api('GET', path + sep + 'limit=100')).data;
  }

  // ---- sign in / out, routing -------------------------------------------------------------

  function signOut(message) {
    sessionStorage.removeItem(KEY_STORAGE);
    cache = { types: null };
    stopRefresh();
    $('#shell').hidden = true;
    $('#signin').hidden = false;
    const err = $('#signin-error');
    err.textContent = message || '';
    err.hidden = !message;
    $('#signin-key').value = '';
    $('#signin-key').focus();
  }

  async function signIn(ev) {
    ev.preventDefault();
    const key = $('#signin-key').value.trim();
    const err = $('#signin-error');
    err.hidden = true;
    if (!key) return;
    $('#signin-submit').disabled = true;
    try {
      const res = await fetch('/v1/admin/adapters?limit=1', {
        headers: { Authorization: 'Bearer ' + key }, cache: 'no-store', credentials: 'omit' });
      if (res.status === 401) throw new Error('That key is not valid.');
      if (res.status === 403) throw new Error('That key is not an admin key.');
      if (!res.ok) throw new Error('The gateway answered ' + res.status + '.');
      sessionStorage.setItem(KEY_STORAGE, key);
      $('#signin-key').value = '';
      showShell();
    } catch (e) {
      err.textContent = e.message === 'Failed to fetch' ? 'The gateway cannot be reached.' : e.message;
      err.hidden = false;
    } finally {
      $('#signin-submit').disabled = false;
    }
  }

  function showShell() {
    $('#signin').hidden = true;
    $('#shell').hidden = false;
    if (!location.hash || location.hash === '#' || location.hash === '#/') location.hash = '#/adapters';
    else route();
  }

  function stopRefresh() {
    if (refreshTimer) clearInterval(refreshTimer);
    refreshTimer = null;
  }

  // Re-runs `fn` every `ms` while this view stays open.
  function every(ms, fn) {
    stopRefresh();
    const token = renderToken;
    refreshTimer = setInterval(() => {
      if (token !== renderToken || document.hidden) return;
      fn().catch((e) => notice(errorText(e), 'bad'));
    }, ms);
  }

  const routes = [
    [/^#\/adapters$/, viewAdapters],
    [/^#\/adapters\/new$/, () => viewAdapterForm(null)],
    [/^#\/adapters\/edit\/(.+)$/, (id) => viewAdapterForm(id)],
    [/^#\/sellers$/, viewSellers],
    [/^#\/sellers\/new$/, () => viewSellerForm(null)],
    [/^#\/sellers\/edit\/(.+)$/, (id) => viewSellerForm(id)],
    [/^#\/products$/, viewProducts],
    [/^#\/products\/new$/, () => viewProductForm(null)],
    [/^#\/products\/edit\/(.+)$/, (sku) => viewProductForm(sku)],
    [/^#\/routing$/, viewRouting],
    [/^#\/checkouts$/, viewCheckouts],
    [/^#\/checkouts\/(.+)$/, (id) => viewCheckout(id)],
    [/^#\/webhooks$/, viewWebhooks],
    [/^#\/webhooks\/(.+)$/, (id) => viewEndpoint(id)],
    [/^#\/keys$/, viewKeys],
    [/^#\/audit$/, viewAudit],
  ];

  async function route() {
    if (!sessionStorage.getItem(KEY_STORAGE)) return signOut();
    stopRefresh();
    notice(null);
    const token = ++renderToken;
    const hash = location.hash;
    const section = (hash.split('/')[1] || '');
    for (const a of document.querySelectorAll('[data-nav]')) {
      a.classList.toggle('active', a.dataset.nav === section);
    }
    const view = $('#view');
    for (const [re, fn] of routes) {
      const m = hash.match(re);
      if (!m) continue;
      try {
        const nodes = await fn(...m.slice(1).map(decodeURIComponent));
        if (token !== renderToken) return;  // the admin moved on meanwhile
        view.replaceChildren(...[].concat(nodes));
      } catch (e) {
        if (token !== renderToken) return;
        view.replaceChildren(h('div', { class: 'notice bad' }, errorText(e)));
      }
      return;
    }
    location.hash = '#/adapters';
  }

  function go(hash) { location.hash = hash; }
  const enc = encodeURIComponent;

  // ---- forms ------------------------------------------------------------------------------

  // A labelled field; `param` ties it to the API's error `param` so errors land next to it.
  function field(label, input, opts) {
    opts = opts || {};
    return h('div', { class: 'field' + (opts.full ? ' full' : ''), 'data-param': opts.param || null },
      h('label', { for: input.id }, label, opts.required ? h('span', { class: 'req' }, '*') : null),
      input,
      opts.help ? h('div', { class: 'help' }, opts.help) : null);
  }

  function showFormError(form, e) {
    for (const f of form.querySelectorAll('.field.invalid')) {
      f.classList.remove('invalid');
      const m = f.querySelector('.field-error');
      if (m) m.remove();
    }
    const target = e.param && form.querySelector('[data-param="' + CSS.escape(e.param) + '"]');
    if (target) {
      target.classList.add('invalid');
      target.append(h('div', { class: 'field-error' }, e.message));
    }
    notice(errorText(e), 'bad');
    window.scrollTo(0, 0);
  }

  function formActions(cancelHash, label) {
    return h('div', { class: 'form-actions' },
      h('button', { type: 'button', class: 'btn', onclick: () => go(cancelHash) }, 'Cancel'),
      h('button', { type: 'submit', class: 'btn primary', id: 'save' }, label || 'Save'));
  }

  function parseJsonField(value, param) {
    if (!value.trim()) return undefined;
    try {
      return JSON.parse(value);
    } catch (e) {
      const err = new Error('not valid JSON: ' + e.message);
      err.param = param;
      throw err;
    }
  }

  // Key/value rows (payouts): adapter → account.
  function pairsEditor(id, values, keyHint, valueHint) {
    const box = h('div', { class: 'pairs', id });
    const add = (k, v) => {
      const row = h('div', { class: 'pair' },
        h('input', { placeholder: keyHint, value: k || '', 'data-role': 'key' }),
        h('input', { placeholder: valueHint, value: v || '', 'data-role': 'value' }),
        h('button', { type: 'button', class: 'btn small', onclick: () => row.remove() }, 'Remove'));
      box.insertBefore(row, box.lastChild);
    };
    box.append(h('button', { type: 'button', class: 'btn small', onclick: () => add() }, 'Add'));
    for (const [k, v] of Object.entries(values || {})) add(k, v);
    box.collect = () => {
      const out = {};
      for (const row of box.querySelectorAll('.pair')) {
        const k = row.querySelector('[data-role=key]').value.trim();
        if (k) out[k] = row.querySelector('[data-role=value]').value.trim();
      }
      return out;
    };
    return box;
  }

  // ---- adapters ---------------------------------------------------------------------------

  function health(a) {
    if (!a.enabled) return badge('disabled', 'warn');
    const s = a.status || {};
    if (!s.live) return badge('not running', 'bad');
    if (s.breaker === 'open') return badge('breaker open', 'bad');
    if (s.breaker === 'half_open') return badge('recovering', 'warn');
    return badge('healthy', 'ok');
  }

  async function testAdapter(a, cell, button) {
    button.disabled = true;
    cell.querySelector('.test-result')?.remove();
    try {
      const r = await api('POST', '/v1/admin/adapters/' + enc(a.id) + '/test');
      cell.append(h('span', { class: 'test-result ' + (r.ok ? 'ok' : 'bad') },
        r.ok ? 'Credentials work: ' + r.message : (r.error.code + ': ' + r.error.message)));
    } catch (e) {
      cell.append(h('span', { class: 'test-result bad' }, errorText(e)));
    } finally {
      button.disabled = false;
    }
  }

  async function viewAdapters() {
    const adapters = await all('/v1/admin/adapters');
    const render = () => table([
      { title: 'ID', render: (a) => h('a', { href: '#/adapters/edit/' + enc(a.id) }, a.id) },
      { title: 'Type', key: 'type' },
      { title: 'Kind', render: (a) => (a.status && a.status.kind) || '-' },
      { title: 'Health', render: (a) => {
        const cell = h('div', {}, health(a));
        return cell;
      } },
      { title: 'Base URL', render: (a) => h('span', { class: 'mono' }, text(a.base_url)) },
      { title: '', class: 'actions', render: (a) => {
        const cell = h('div', {});
        const test = h('button', { class: 'btn small', type: 'button', 'data-action': 'test',
          onclick: (ev) => { ev.stopPropagation(); testAdapter(a, cell, test); } }, 'Test');
        cell.append(test,
          h('button', { class: 'btn small', type: 'button',
            onclick: () => go('#/adapters/edit/' + enc(a.id)) }, 'Edit'),
          h('button', { class: 'btn small danger', type: 'button', onclick: async () => {
            if (!confirm('Delete adapter ' + a.id + '?')) return;
            try {
              await api('DELETE', '/v1/admin/adapters/' + enc(a.id));
              route();
            } catch (e) { notice(errorText(e), 'bad'); }
          } }, 'Delete'));
        return cell;
      } },
    ], adapters, { id: 'adapters-table', empty: 'No adapters yet. Add a payment processor and a merch partner.' });
    return page('Adapters',
      [h('button', { class: 'btn primary', id: 'add-adapter', onclick: () => go('#/adapters/new') }, 'Add adapter')],
      card(render()));
  }

  // One input per schema property: text, number, select for enums and booleans, JSON for the rest.
  function schemaInput(id, prop, current, secret) {
    const t = prop.type;
    if (prop.enum) {
      return h('select', { id }, h('option', { value: '' }, '(default)'),
        prop.enum.map((v) => h('option', { value: v, selected: current === v }, v)));
    }
    if (t === 'boolean') {
      return h('select', { id, 'data-kind': 'boolean' }, h('option', { value: '' }, '(default)'),
        h('option', { value: 'true', selected: current === true }, 'yes'),
        h('option', { value: 'false', selected: current === false }, 'no'));
    }
    if (t === 'integer' || t === 'number') {
      return h('input', { id, type: 'number', 'data-kind': t, min: prop.minimum, max: prop.maximum,
        step: t === 'integer' ? 1 : 'any', value: current === undefined ? '' : current });
    }
    if (t === 'object' || t === 'array') {
      return h('textarea', { id, 'data-kind': 'json', placeholder: t === 'object' ? '{ }' : '[ ]' },
        current === undefined ? '' : JSON.stringify(current, null, 2));
    }
    return h('input', { id, type: secret ? 'password' : 'text', autocomplete: 'off', spellcheck: 'false',
      maxlength: prop.maxLength, value: secret || current === undefined ? '' : current });
  }

  function readSchemaInput(el, param) {
    const v = el.value;
    if (v === '') return undefined;
    switch (el.dataset.kind) {
      case 'boolean': return v === 'true';
      case 'integer': return parseInt(v, 10);
      case 'number': return Number(v);
      case 'json': return parseJsonField(v, param);
      default: return v;
    }
  }

  function schemaFieldset(legend, group, schema, current, editing) {
    const props = (schema && schema.properties) || {};
    const required = new Set((schema && schema.required) || []);
    const fields = Object.entries(props).map(([name, prop]) => {
      const secret = group === 'credentials' || prop['x-secret'];
      const id = group + '-' + name;
      let help = prop.description || '';
      if (secret && editing && current[name]) help = 'Stored: ' + current[name] + '. Leave blank to keep. ' + help;
      return field(name, schemaInput(id, prop, current[name], secret),
        { param: group + '.' + name, required: required.has(name) && !(editing && secret), help });
    });
    if (!fields.length) return null;
    return h('fieldset', { class: 'full form', id: 'fieldset-' + group }, h('legend', {}, legend), fields);
  }

  async function viewAdapterForm(id) {
    const types = await adapterTypes();
    const current = id ? await api('GET', '/v1/admin/adapters/' + enc(id)) : null;
    const form = h('form', { class: 'form', id: 'adapter-form', autocomplete: 'off' });
    const typeSelect = h('select', { id: 'adapter-type', disabled: !!current },
      h('option', { value: '' }, 'Choose a type…'),
      types.map((t) => h('option', { value: t.type, selected: current && current.type === t.type },
        t.type + ' (' + t.kind + ')')));
    const idInput = h('input', { id: 'adapter-id', value: id || '', readonly: !!current,
      placeholder: 'stripe-main', pattern: '[a-z0-9_-]{1,64}' });
    const enabled = h('input', { id: 'adapter-enabled', type: 'checkbox',
      checked: current ? current.enabled : true });
    const baseUrl = h('input', { id: 'adapter-base-url', value: (current && current.base_url) || '' });
    const typeHelp = h('div', { class: 'help' });
    const dynamic = h('div', { class: 'full form' });

    const renderType = () => {
      const t = types.find((x) => x.type === typeSelect.value);
      typeHelp.textContent = t ? t.description : '';
      baseUrl.placeholder = t ? (t.default_base_url || '(none)') : '';
      const schema = (t && t.schema) || {};
      dynamic.replaceChildren(
        schemaFieldset('Credentials', 'credentials', schema.credentials,
          (current && current.credentials) || {}, !!current) || '',
        schemaFieldset('Settings', 'settings', schema.settings,
          (current && current.settings) || {}, !!current) || '');
    };
    typeSelect.addEventListener('change', renderType);

    form.append(
      h('div', { class: 'field', 'data-param': 'type' }, h('label', { for: 'adapter-type' }, 'Type', h('span', { class: 'req' }, '*')), typeSelect, typeHelp),
      field('ID', idInput, { param: 'id', required: true, help: 'a-z, 0-9, - and _; partners send webhooks to /v1/webhooks/{id}' }),
      field('Base URL', baseUrl, { param: 'base_url', help: 'blank: the partner\'s default' }),
      h('div', { class: 'field' }, h('label', {}, 'State'),
        h('label', { class: 'check', for: 'adapter-enabled' }, enabled, 'Enabled (takes traffic)')),
      dynamic,
      h('div', { class: 'full' }, formActions('#/adapters', current ? 'Save adapter' : 'Add adapter')));
    renderType();

    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      try {
        const body = { type: typeSelect.value, enabled: enabled.checked };
        if (!body.type) throw Object.assign(new Error('choose a type'), { param: 'type' });
        if (baseUrl.value.trim()) body.base_url = baseUrl.value.trim();
        for (const group of ['credentials', 'settings']) {
          const out = {};
          for (const el of form.querySelectorAll('#fieldset-' + group + ' [id^="' + group + '-"]')) {
            const name = el.id.slice(group.length + 1);
            const v = readSchemaInput(el, group + '.' + name);
            if (v !== undefined) out[name] = v;
          }
          // Editing with no credential typed keeps the stored ones (the API's rule).
          if (group === 'credentials' && current && !Object.keys(out).length) continue;
          body[group] = out;
        }
        const target = idInput.value.trim();
        await api('PUT', '/v1/admin/adapters/' + enc(target), body);
        go('#/adapters');
        setTimeout(() => notice('Adapter ' + target + ' saved.'), 0);
      } catch (e) {
        showFormError(form, e);
      }
    });
    return page(current ? 'Adapter ' + id : 'Add adapter', [], card(h('div', { class: 'card-body' }, form)));
  }

  // ---- sellers ----------------------------------------------------------------------------

  async function viewSellers() {
    const sellers = await all('/v1/admin/sellers');
    return page('Sellers',
      [h('button', { class: 'btn primary', id: 'add-seller', onclick: () => go('#/sellers/new') }, 'Add seller')],
      card(table([
        { title: 'ID', render: (s) => h('a', { href: '#/sellers/edit/' + enc(s.id) }, s.id) },
        { title: 'Name', key: 'name' },
        { title: 'Platform fee', render: (s) => (s.platform_fee_bps / 100).toFixed(2) + ' %' },
        { title: 'Payout accounts', render: (s) => Object.entries(s.payouts || {}).map(([k, v]) => k + ': ' + v).join(', ') || '-' },
        { title: '', class: 'actions', render: (s) => h('div', {},
          h('button', { class: 'btn small', onclick: () => go('#/products?seller=' + enc(s.id)) }, 'Products'),
          h('button', { class: 'btn small danger', onclick: async () => {
            if (!confirm('Delete seller ' + s.id + '?')) return;
            try { await api('DELETE', '/v1/admin/sellers/' + enc(s.id)); route(); } catch (e) { notice(errorText(e), 'bad'); }
          } }, 'Delete')) },
      ], sellers, { id: 'sellers-table' })));
  }

  async function viewSellerForm(id) {
    const [current, adapters] = await Promise.all([
      id ? api('GET', '/v1/admin/sellers/' + enc(id)) : null, all('/v1/admin/adapters')]);
    const form = h('form', { class: 'form', id: 'seller-form' });
    const idInput = h('input', { id: 'seller-id', value: id || '', readonly: !!current, placeholder: 'sel_hype' });
    const name = h('input', { id: 'seller-name', value: current ? current.name : '' });
    const fee = h('input', { id: 'seller-fee', type: 'number', min: 0, max: 10000, step: 1,
      value: current ? current.platform_fee_bps : 0 });
    const processors = adapters.filter((a) => a.status && a.status.kind === 'payment').map((a) => a.id);
    const payouts = pairsEditor('seller-payouts', current && current.payouts,
      'processor adapter (' + (processors.join(', ') || 'none yet') + ')', 'account at that processor');
    form.append(
      field('ID', idInput, { param: 'id', required: true }),
      field('Name', name, { param: 'name', required: true }),
      field('Platform fee (basis points)', fee, { param: 'platform_fee_bps', help: '500 = 5 % of each checkout' }),
      field('Payout accounts', payouts, { param: 'payouts', full: true }),
      h('div', { class: 'full' }, formActions('#/sellers')));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      try {
        const target = idInput.value.trim();
        await api('PUT', '/v1/admin/sellers/' + enc(target),
          { name: name.value.trim(), platform_fee_bps: parseInt(fee.value || '0', 10), payouts: payouts.collect() });
        go('#/sellers');
        setTimeout(() => notice('Seller ' + target + ' saved.'), 0);
      } catch (e) { showFormError(form, e); }
    });
    return page(current ? 'Seller ' + id : 'Add seller', [], card(h('div', { class: 'card-body' }, form)));
  }

  // ---- products ---------------------------------------------------------------------------

  async function viewProducts() {
    const seller = new URLSearchParams(location.hash.split('?')[1] || '').get('seller') || '';
    const [products, sellers] = await Promise.all([
      all('/v1/admin/products' + (seller ? '?seller=' + enc(seller) : '')), all('/v1/admin/sellers')]);
    const filter = h('select', { id: 'products-seller', onchange: (ev) => {
      location.hash = '#/products' + (ev.target.value ? '?seller=' + enc(ev.target.value) : '');
    } }, h('option', { value: '' }, 'All sellers'),
    sellers.map((s) => h('option', { value: s.id, selected: s.id === seller }, s.name + ' (' + s.id + ')')));
    return page('Products',
      [filter, h('button', { class: 'btn primary', id: 'add-product', onclick: () => go('#/products/new') }, 'Add product')],
      card(table([
        { title: 'SKU', render: (p) => h('a', { href: '#/products/edit/' + enc(p.sku) }, p.sku) },
        { title: 'Title', key: 'title' },
        { title: 'Seller', key: 'seller' },
        { title: 'Price', render: (p) => money(p.unit_amount, p.currency) },
        { title: 'State', render: (p) => p.active ? (p.in_stock === false ? badge('out of stock', 'warn') : badge('active', 'ok')) : badge('inactive') },
        { title: 'Made by', render: (p) => (p.fulfillment && p.fulfillment.adapter) || '-' },
        { title: '', class: 'actions', render: (p) => h('button', { class: 'btn small danger', onclick: async () => {
          if (!confirm('Delete product ' + p.sku + '?')) return;
          try { await api('DELETE', '/v1/admin/products/' + enc(p.sku)); route(); } catch (e) { notice(errorText(e), 'bad'); }
        } }, 'Delete') },
      ], products, { id: 'products-table' })));
  }

  async function viewProductForm(sku) {
    const [current, sellers, adapters] = await Promise.all([
      sku ? api('GET', '/v1/admin/products/' + enc(sku)) : null, all('/v1/admin/sellers'), all('/v1/admin/adapters')]);
    const form = h('form', { class: 'form', id: 'product-form' });
    const c = current || {};
    const ful = Object.assign({}, c.fulfillment || {});
    const fulAdapter = ful.adapter || '';
    delete ful.adapter;
    const skuInput = h('input', { id: 'product-sku', value: sku || '', readonly: !!current, placeholder: 'hype-tee-black-m' });
    const seller = h('select', { id: 'product-seller' }, h('option', { value: '' }, 'Choose…'),
      sellers.map((s) => h('option', { value: s.id, selected: s.id === c.seller }, s.name + ' (' + s.id + ')')));
    const title = h('input', { id: 'product-title', value: c.title || '' });
    const description = h('textarea', { id: 'product-description' }, c.description || '');
    const amount = h('input', { id: 'product-amount', type: 'number', min: 0, step: 1, value: c.unit_amount === undefined ? '' : c.unit_amount });
    const currency = h('input', { id: 'product-currency', value: c.currency || 'EUR', maxlength: 3 });
    const amountHelp = h('div', { class: 'help' });
    const showAmount = () => { amountHelp.textContent = 'minor units: ' + money(parseInt(amount.value, 10), currency.value.toUpperCase()); };
    amount.addEventListener('input', showAmount);
    currency.addEventListener('input', showAmount);
    const active = h('input', { id: 'product-active', type: 'checkbox', checked: current ? c.active : true });
    const merch = h('select', { id: 'product-fulfillment' }, h('option', { value: '' }, 'Nothing ships (digital)'),
      adapters.filter((a) => a.status && a.status.kind === 'fulfillment')
        .map((a) => h('option', { value: a.id, selected: a.id === fulAdapter }, a.id + ' (' + a.type + ')')));
    const spec = h('textarea', { id: 'product-spec', placeholder: '{"product": "71", "variant": "4012", "files": [{"url": "https://…/front.png"}]}' },
      Object.keys(ful).length ? JSON.stringify(ful, null, 2) : '');
    const images = h('textarea', { id: 'product-images', placeholder: 'https://… one per line' }, (c.images || []).join('\n'));
    form.append(
      field('SKU', skuInput, { param: 'sku', required: true }),
      field('Seller', seller, { param: 'seller', required: true }),
      field('Title', title, { param: 'title', required: true }),
      h('div', { class: 'field' }, h('label', {}, 'State'), h('label', { class: 'check', for: 'product-active' }, active, 'Active (sellable)')),
      h('div', { class: 'field', 'data-param': 'unit_amount' }, h('label', { for: 'product-amount' }, 'Unit amount', h('span', { class: 'req' }, '*')), amount, amountHelp),
      field('Currency', currency, { param: 'currency', required: true }),
      field('Description', description, { param: 'description', full: true }),
      field('Made by (merch partner)', merch, { param: 'fulfillment.adapter' }),
      field('Partner product (JSON)', spec, { param: 'fulfillment', help: 'the partner\'s product and variant ids, print files' }),
      field('Images', images, { param: 'images', full: true }),
      h('div', { class: 'full' }, formActions('#/products')));
    showAmount();
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      try {
        const target = skuInput.value.trim();
        const body = { seller: seller.value, title: title.value.trim(), unit_amount: parseInt(amount.value, 10),
          currency: currency.value.trim().toUpperCase(), active: active.checked };
        if (description.value.trim()) body.description = description.value.trim();
        const imgs = images.value.split('\n').map((s) => s.trim()).filter(Boolean);
        if (imgs.length) body.images = imgs;
        for (const k of ['group', 'options', 'in_stock']) if (c[k] !== undefined && c[k] !== null) body[k] = c[k];
        if (merch.value) body.fulfillment = Object.assign({ adapter: merch.value }, parseJsonField(spec.value, 'fulfillment') || {});
        await api('PUT', '/v1/admin/products/' + enc(target), body);
        go('#/products');
        setTimeout(() => notice('Product ' + target + ' saved.'), 0);
      } catch (e) { showFormError(form, e); }
    });
    return page(current ? 'Product ' + sku : 'Add product', [], card(h('div', { class: 'card-body' }, form)));
  }

  // ---- routing ----------------------------------------------------------------------------

  async function viewRouting() {
    const [routing, adapters] = await Promise.all([api('GET', '/v1/admin/routing'), all('/v1/admin/adapters')]);
    const rules = routing.rules || [];
    const describe = (m) => {
      const parts = [];
      if (m.currency) parts.push('currency ' + [].concat(m.currency).join(', '));
      if (m.country) parts.push('country ' + [].concat(m.country).join(', '));
      if (m.min_amount !== undefined) parts.push('amount ≥ ' + m.min_amount);
      if (m.max_amount !== undefined) parts.push('amount ≤ ' + m.max_amount);
      return parts.join(' · ') || 'everything else';
    };
    const editor = h('textarea', { id: 'routing-json', class: 'tall' }, JSON.stringify({ rules }, null, 2));
    const form = h('form', { id: 'routing-form' },
      h('div', { class: 'field', 'data-param': 'rules' }, h('label', { for: 'routing-json' }, 'Rules (JSON)'), editor,
        h('div', { class: 'help' }, 'Rules are tried in order; the first that matches gives the processors, and the first healthy processor wins. Payment adapters: ' +
          (adapters.filter((a) => a.status && a.status.kind === 'payment').map((a) => a.id).join(', ') || 'none'))),
      h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'btn primary', id: 'save' }, 'Save rules')));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      try {
        await api('PUT', '/v1/admin/routing', parseJsonField(editor.value, 'rules') || { rules: [] });
        await route();
        notice('Routing saved. New checkouts use it now; checkouts in flight keep theirs.');
      } catch (e) { showFormError(form, e); }
    });
    return page('Routing', [],
      card(table([
        { title: '#', render: (r) => String(rules.indexOf(r) + 1) },
        { title: 'When', render: (r) => describe(r.match || {}) },
        { title: 'Processors, in order', render: (r) => (r.processors || []).join(' → ') },
      ], rules, { empty: 'No rules: every enabled processor is tried, in id order.' })),
      card(h('div', { class: 'card-body' }, form)));
  }

  // ---- checkouts --------------------------------------------------------------------------

  async function viewCheckouts() {
    const status = new URLSearchParams(location.hash.split('?')[1] || '').get('status') || '';
    const body = h('div', {});
    const stamp = h('span', { class: 'live' });
    const load = async () => {
      const list = (await api('GET', '/v1/checkouts?limit=50' + (status ? '&status=' + enc(status) : ''))).data;
      body.replaceChildren(table([
        { title: 'Checkout', render: (c) => h('span', { class: 'mono' }, c.id) },
        { title: 'Status', render: (c) => statusBadge(c.status) },
        { title: 'Seller', key: 'seller' },
        { title: 'Total', render: (c) => money(c.amount_total, c.currency) },
        { title: 'Processor', render: (c) => (c.payment && c.payment.processor) || '-' },
        { title: 'Created', render: (c) => when(c.created_at) },
      ], list, { id: 'checkouts-table', onclick: (c) => go('#/checkouts/' + enc(c.id)), empty: 'No checkouts yet.' }));
      stamp.textContent = 'Live · updated ' + new Date().toLocaleTimeString();
    };
    await load();
    every(3000, load);
    const filter = h('select', { id: 'checkouts-status', onchange: (ev) => {
      location.hash = '#/checkouts' + (ev.target.value ? '?status=' + enc(ev.target.value) : '');
    } }, h('option', { value: '' }, 'All statuses'),
    ['requires_payment', 'payment_failed', 'paid', 'fulfilling', 'fulfilled', 'partially_refunded', 'refunded', 'canceled']
      .map((s) => h('option', { value: s, selected: s === status }, s)));
    return page('Checkouts', [stamp, filter], card(body));
  }

  function describeEvent(e) {
    const o = (e.data && e.data.object) || {};
    if (e.type === 'fulfillment.shipped' && o.shipments && o.shipments.length) {
      const s = o.shipments[o.shipments.length - 1];
      return [s.carrier, s.tracking_number].filter(Boolean).join(' ');
    }
    if (o.object === 'refund') return money(o.amount, o.currency);
    if (o.status && e.type.startsWith('fulfillment.')) return (o.adapter || '') + ' ' + (o.reference || '');
    return '';
  }

  async function viewCheckout(id) {
    const head = h('div', {});
    const stamp = h('span', { class: 'live' });
    const load = async () => {
      const t = await api('GET', '/v1/admin/checkouts/' + enc(id) + '/timeline');
      const c = t.checkout;
      const pay = c.payment || {};
      const summary = card(h('div', { class: 'card-body' }, h('dl', { class: 'kv' },
        h('dt', {}, 'Status'), h('dd', { id: 'checkout-status' }, statusBadge(c.status)),
        h('dt', {}, 'Seller'), h('dd', {}, c.seller),
        h('dt', {}, 'Total'), h('dd', {}, money(c.amount_total, c.currency) + ' (shipping ' + money(c.amount_shipping, c.currency) + ', fee ' + money(c.platform_fee, c.currency) + ')'),
        h('dt', {}, 'Payment'), h('dd', {}, (pay.processor || '-') + ' ', statusBadge(pay.status), ' ', h('span', { class: 'mono' }, pay.reference || '')),
        h('dt', {}, 'Created'), h('dd', {}, when(c.created_at)),
        h('dt', {}, 'Updated'), h('dd', {}, when(c.updated_at)))));
      const lines = card(table([
        { title: 'SKU', key: 'sku' },
        { title: 'Qty', key: 'quantity' },
        { title: 'Unit', render: (l) => money(l.unit_amount, c.currency) },
        { title: 'Amount', render: (l) => money(l.amount, c.currency) },
      ], c.lines || []));
      const fulfillments = card(table([
        { title: 'Fulfillment', render: (f) => h('span', { class: 'mono' }, f.id) },
        { title: 'Partner', key: 'adapter' },
        { title: 'Status', render: (f) => statusBadge(f.status) },
        { title: 'Partner order', render: (f) => text(f.reference) },
        { title: 'Tracking', render: (f) => (f.shipments || []).map((s) => s.tracking_url
          ? h('a', { href: s.tracking_url, target: '_blank', rel: 'noopener noreferrer' }, (s.carrier || '') + ' ' + (s.tracking_number || ''))
          : (s.carrier || '') + ' ' + (s.tracking_number || '')) },
      ], c.fulfillments || [], { empty: 'Nothing to ship.' }));
      const events = (t.events || []);
      const timeline = card(h('div', { class: 'card-body' }, events.length
        ? h('ol', { class: 'timeline', id: 'timeline' }, events.map((e) => h('li', { 'data-type': e.type },
          h('div', { class: 'what' }, e.type, ' ', h('span', { class: 'muted' }, describeEvent(e))),
          h('div', { class: 'when' }, when(e.created_at), ' · ', h('span', { class: 'mono' }, e.id)))))
        : h('div', { class: 'empty' }, 'No events yet.')));
      const calls = card(table([
        { title: 'At', render: (p) => when(p.at) },
        { title: 'Adapter', key: 'adapter' },
        { title: 'Operation', key: 'operation' },
        { title: 'Outcome', render: (p) => badge(p.outcome, p.outcome === 'ok' ? 'ok' : 'warn') },
        { title: 'HTTP', key: 'http_status' },
        { title: 'ms', key: 'duration_ms' },
        { title: 'Error', key: 'error' },
      ], t.partner_calls || [], { empty: 'No partner calls.' }));
      const hooks = card(table([
        { title: 'Received', render: (w) => when(w.received_at) },
        { title: 'Adapter', key: 'adapter' },
        { title: 'Type', key: 'type' },
        { title: 'Status', render: (w) => badge(w.status, w.status === 'applied' ? 'ok' : '') },
        { title: 'Error', key: 'error' },
      ], t.webhooks || [], { empty: 'No partner webhooks.' }));
      const jobs = card(table([
        { title: 'Job', key: 'kind' },
        { title: 'State', render: (j) => badge(j.state, j.state === 'done' ? 'ok' : j.state === 'dead' ? 'bad' : 'info') },
        { title: 'Attempts', key: 'attempts' },
        { title: 'Last error', key: 'last_error' },
        { title: 'Updated', render: (j) => when(j.updated_at) },
      ], t.jobs || [], { empty: 'No jobs.' }));
      head.replaceChildren(
        h('div', { class: 'grid-2' }, h('div', {}, summary, h('h2', {}, 'Lines'), lines, h('h2', {}, 'Fulfillments'), fulfillments),
          h('div', {}, h('h2', { class: 'first' }, 'Timeline'), timeline)),
        h('h2', {}, 'Partner calls'), calls, h('h2', {}, 'Partner webhooks'), hooks, h('h2', {}, 'Jobs'), jobs);
      stamp.textContent = 'Live · updated ' + new Date().toLocaleTimeString();
    };
    await load();
    every(2000, load);
    return [h('div', { class: 'crumbs' }, h('a', { href: '#/checkouts' }, 'Checkouts'), ' / '),
      ...page(h('span', { class: 'mono' }, id), [stamp]), head];
  }

  // ---- webhook endpoints ------------------------------------------------------------------

  async function viewWebhooks() {
    const endpoints = (await api('GET', '/v1/admin/webhook-endpoints')).data;
    const secretBox = h('div', {});
    const form = h('form', { class: 'form', id: 'endpoint-form' });
    const url = h('input', { id: 'endpoint-url', placeholder: 'https://app.example.com/merchgate-events' });
    const events = h('input', { id: 'endpoint-events', value: '*' });
    const description = h('input', { id: 'endpoint-description' });
    form.append(field('URL', url, { param: 'url', required: true }),
      field('Events', events, { param: 'events', help: 'comma-separated types (checkout.paid, fulfillment.*), or *' }),
      field('Description', description, { param: 'description', full: true }),
      h('div', { class: 'full form-actions' }, h('button', { type: 'submit', class: 'btn primary', id: 'save' }, 'Add endpoint')));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      try {
        const body = { url: url.value.trim(), events: events.value.split(',').map((s) => s.trim()).filter(Boolean) };
        if (description.value.trim()) body.description = description.value.trim();
        const created = await api('POST', '/v1/admin/webhook-endpoints', body);
        await route();
        // Shown once: the API never returns the secret again.
        $('#view').prepend(h('div', { class: 'callout', id: 'endpoint-secret' },
          'Signing secret for ' + created.url + ' — copy it now, it is not shown again:', h('code', {}, created.secret)));
      } catch (e) { showFormError(form, e); }
    });
    return page('Webhook endpoints', [], secretBox,
      card(table([
        { title: 'URL', render: (e) => h('a', { href: '#/webhooks/' + enc(e.id) }, e.url) },
        { title: 'Events', render: (e) => (e.events || []).join(', ') },
        { title: 'Status', render: (e) => e.enabled ? statusBadge(e.status || 'active') : badge('disabled', 'warn') },
        { title: '', class: 'actions', render: (e) => h('div', {},
          h('button', { class: 'btn small', onclick: () => go('#/webhooks/' + enc(e.id)) }, 'Deliveries'),
          h('button', { class: 'btn small', onclick: async () => {
            try { await api('PATCH', '/v1/admin/webhook-endpoints/' + enc(e.id), { enabled: !e.enabled }); route(); } catch (x) { notice(errorText(x), 'bad'); }
          } }, e.enabled ? 'Disable' : 'Enable'),
          h('button', { class: 'btn small danger', onclick: async () => {
            if (!confirm('Delete endpoint ' + e.url + '?')) return;
            try { await api('DELETE', '/v1/admin/webhook-endpoints/' + enc(e.id)); route(); } catch (x) { notice(errorText(x), 'bad'); }
          } }, 'Delete')) },
      ], endpoints, { id: 'endpoints-table', empty: 'No endpoints: events are only in GET /v1/events.' })),
      h('h2', {}, 'Add an endpoint'), card(h('div', { class: 'card-body' }, form)));
  }

  async function viewEndpoint(id) {
    const e = await api('GET', '/v1/admin/webhook-endpoints/' + enc(id));
    const body = h('div', {});
    const stamp = h('span', { class: 'live' });
    const load = async () => {
      const attempts = (await api('GET', '/v1/admin/webhook-endpoints/' + enc(id) + '/attempts?limit=50')).data;
      body.replaceChildren(table([
        { title: 'At', render: (a) => when(a.at) },
        { title: 'Event', render: (a) => h('span', { class: 'mono' }, a.event) },
        { title: 'Result', render: (a) => a.status_code ? badge(String(a.status_code), a.status_code < 300 ? 'ok' : 'bad') : badge('no answer', 'bad') },
        { title: 'ms', key: 'latency_ms' },
        { title: 'Error', render: (a) => text(a.error) },
        { title: '', class: 'actions', render: (a) => h('button', { class: 'btn small', onclick: async () => {
          try {
            const r = await api('POST', '/v1/events/' + enc(a.event) + '/redeliver?endpoint=' + enc(id));
            notice('Event ' + a.event + ' queued again (' + r.deliveries_queued + ').');
            await load();
          } catch (x) { notice(errorText(x), 'bad'); }
        } }, 'Redeliver') },
      ], attempts, { id: 'attempts-table', empty: 'No delivery attempts yet.' }));
      stamp.textContent = 'Live · updated ' + new Date().toLocaleTimeString();
    };
    await load();
    every(5000, load);
    return [h('div', { class: 'crumbs' }, h('a', { href: '#/webhooks' }, 'Webhook endpoints'), ' / '),
      ...page(e.url, [stamp]),
      card(h('div', { class: 'card-body' }, h('dl', { class: 'kv' },
        h('dt', {}, 'ID'), h('dd', { class: 'mono' }, e.id),
        h('dt', {}, 'Events'), h('dd', {}, (e.events || []).join(', ')),
        h('dt', {}, 'Status'), h('dd', {}, e.enabled ? statusBadge(e.status || 'active') : badge('disabled', 'warn')),
        h('dt', {}, 'Description'), h('dd', {}, text(e.description))))),
      h('h2', {}, 'Delivery attempts'), card(body)];
  }

  // ---- API keys and audit log (newer gateways) --------------------------------------------

  function missingEndpoint(e, what) {
    if (e.status === 404 && e.code === 'route_not_found') {
      return card(h('div', { class: 'empty' }, 'This gateway does not offer ' + what + ' yet.'));
    }
    throw e;
  }

  async function viewKeys() {
    let keys;
    try { keys = await all('/v1/admin/api-keys'); } catch (e) { return page('API keys', [], missingEndpoint(e, 'API key management')); }
    const form = h('form', { class: 'form', id: 'key-form' });
    const name = h('input', { id: 'key-name', placeholder: 'shop backend' });
    const role = h('select', { id: 'key-role' }, ['app', 'viewer', 'admin'].map((r) => h('option', { value: r }, r)));
    const seller = h('input', { id: 'key-seller', placeholder: 'optional: sel_…' });
    form.append(field('Name', name, { param: 'name' }), field('Role', role, { param: 'role' }),
      field('Only for seller', seller, { param: 'seller', help: 'an app key restricted to one seller' }),
      h('div', { class: 'full form-actions' }, h('button', { type: 'submit', class: 'btn primary', id: 'save' }, 'Create key')));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      try {
        const body = { role: role.value };
        if (name.value.trim()) body.name = name.value.trim();
        if (seller.value.trim()) body.seller = seller.value.trim();
        const created = await api('POST', '/v1/admin/api-keys', body);
        await route();
        $('#view').prepend(h('div', { class: 'callout', id: 'key-secret' },
          'New key ' + created.id + ' — copy it now, it is not shown again:', h('code', {}, created.key)));
      } catch (e) { showFormError(form, e); }
    });
    return page('API keys', [],
      card(table([
        { title: 'ID', render: (k) => h('span', { class: 'mono' }, k.id) },
        { title: 'Name', key: 'name' },
        { title: 'Role', render: (k) => badge(k.role, k.role === 'admin' ? 'warn' : 'info') },
        { title: 'Seller', key: 'seller' },
        { title: 'Key', render: (k) => h('span', { class: 'mono' }, text(k.redacted)) },
        { title: 'Created', render: (k) => when(k.created_at) },
        { title: 'Last used', render: (k) => when(k.last_used_at) },
        { title: 'State', render: (k) => k.revoked_at ? badge('revoked', 'bad') : badge('active', 'ok') },
        { title: '', class: 'actions', render: (k) => k.revoked_at ? '' : h('button', { class: 'btn small danger', onclick: async () => {
          if (!confirm('Revoke key ' + k.id + '? Calls with it fail at once.')) return;
          try { await api('DELETE', '/v1/admin/api-keys/' + enc(k.id)); route(); } catch (e) { notice(errorText(e), 'bad'); }
        } }, 'Revoke') },
      ], keys, { id: 'keys-table' })),
      h('h2', {}, 'Create a key'), card(h('div', { class: 'card-body' }, form)));
  }

  async function viewAudit() {
    let entries;
    try { entries = (await api('GET', '/v1/admin/audit-log?limit=100')).data; } catch (e) { return page('Audit log', [], missingEndpoint(e, 'an audit log')); }
    return page('Audit log', [], card(table([
      { title: 'When', render: (a) => when(a.at) },
      { title: 'Key', render: (a) => h('span', { class: 'mono' }, text(a.key)) },
      { title: 'Request', render: (a) => (a.method || '') + ' ' + (a.path || '') },
      { title: 'Status', key: 'status' },
      { title: 'From', render: (a) => text(a.remote_address) },
      { title: 'Change', render: (a) => h('span', { class: 'mono' }, text(a.change)) },
    ], entries, { id: 'audit-table', empty: 'No changes recorded yet.' })));
  }

  // ---- start ------------------------------------------------------------------------------

  document.addEventListener('DOMContentLoaded', () => {
    $('#signin-form').addEventListener('submit', signIn);
    $('#signout').addEventListener('click', () => signOut());
    window.addEventListener('hashchange', route);
    if (sessionStorage.getItem(KEY_STORAGE)) showShell();
    else signOut();
  });
})();
