/*
 * <two-factor-prompt>: the soft prompt to set up two-factor authentication.
 * A classic script (no modules, no build step) so a host can load it from the service's origin
 * without CORS: <script src="https://2fa.example.com/two-factor/prompt.js" defer></script>.
 * It upgrades the markup the host SDK's renderPrompt() writes (same attributes) and renders
 * everything in a shadow root, so neither the page's CSS nor its own leaks across.
 *
 * Attributes: setup-url (required), org-count, xero, product-name, and, to replace the English
 * defaults, label, heading, message, reason, setup-label, dismiss-label.
 * Theming (CSS custom properties, inherited from the page): --tfp-brand, --tfp-brand-fg,
 * --tfp-bg, --tfp-fg, --tfp-border, --tfp-focus, --tfp-radius, --tfp-font.
 * "Not now" hides it for this page view only (nothing is stored: it is back on the next load)
 * and fires a bubbling, composed `two-factor-prompt-dismiss` event.
 */
(function () {
  'use strict';
  if (typeof window === 'undefined' || !window.customElements || window.customElements.get('two-factor-prompt')) return;

  var CSS = [
    ':host{all:initial;display:block;contain:content}',
    ':host([hidden]){display:none !important}',
    '.banner{box-sizing:border-box;display:flex;flex-wrap:wrap;align-items:center;gap:8px 16px;margin:0;padding:12px 16px;',
    'border:1px solid var(--tfp-border,#b7c8ee);border-radius:var(--tfp-radius,8px);background:var(--tfp-bg,#eef3fd);color:var(--tfp-fg,#1a1a1a);',
    'font-family:var(--tfp-font,system-ui,-apple-system,"Segoe UI",Roboto,sans-serif);font-size:15px;line-height:1.5}',
    '.text{flex:1 1 20rem;min-width:0}',
    'h2{margin:0;font-size:1em;font-weight:700}',
    'p{margin:2px 0 0}',
    '.actions{display:flex;gap:8px;flex-wrap:wrap}',
    'a,button{box-sizing:border-box;display:inline-block;margin:0;padding:6px 14px;border-radius:var(--tfp-radius,8px);font:inherit;font-weight:600;line-height:1.5;cursor:pointer;text-decoration:none}',
    'a{background:var(--tfp-brand,#0b57d0);color:var(--tfp-brand-fg,#fff);border:1px solid var(--tfp-brand,#0b57d0)}',
    'button{background:transparent;color:var(--tfp-fg,#1a1a1a);border:1px solid currentColor}',
    'a:focus-visible,button:focus-visible{outline:3px solid var(--tfp-focus,#1a1a1a);outline-offset:2px}',
    '@media (forced-colors:active){a,button{border:1px solid ButtonText}}',
  ].join('');

  var sheet = null;
  function styleFor(root) {
    // A constructed sheet is outside the host page's CSP style-src (no inline <style> needed).
    if ('adoptedStyleSheets' in root && typeof CSSStyleSheet === 'function') {
      try {
        if (!sheet) {
          sheet = new CSSStyleSheet();
          sheet.replaceSync(CSS);
        }
        root.adoptedStyleSheets = [sheet];
        return null;
      } catch (e) {
        sheet = null;
      }
    }
    var style = document.createElement('style');
    style.textContent = CSS;
    return style;
  }

  function safeUrl(value) {
    if (!value) return null;
    try {
      var url = new URL(value, document.baseURI);
      return url.protocol === 'https:' || url.protocol === 'http:' ? url.href : null;
    } catch (e) {
      return null;
    }
  }

  function defaultMessage(count, product) {
    var who = count === 1 ? 'An organisation you belong to' : count + ' organisations you belong to';
    return who + (product ? ' in ' + product : '') + (count === 1 ? ' asks' : ' ask') + ' you to set up two-factor authentication.';
  }

  var XERO = 'It is required for Xero: Xero asks everyone who works in a connected organisation to use two-factor authentication.';
  function el(tag, props, children) {
    var node = document.createElement(tag);
    for (var key in props) if (Object.prototype.hasOwnProperty.call(props, key)) node.setAttribute(key, props[key]);
    (children || []).forEach(function (child) {
      node.appendChild(typeof child === 'string' ? document.createTextNode(child) : child);
    });
    return node;
  }

  class TwoFactorPrompt extends HTMLElement {
    static get observedAttributes() {
      return ['setup-url', 'org-count', 'xero', 'product-name', 'label', 'heading', 'message', 'reason', 'setup-label', 'dismiss-label'];
    }

    constructor() {
      super();
      this.attachShadow({ mode: 'open' });
    }

    connectedCallback() {
      this._render();
      this._rendered = true;
    }

    attributeChangedCallback() {
      // During the upgrade every attribute reports a change before connectedCallback: render once, then on real changes.
      if (this._rendered) this._render();
    }

    /** Hides the prompt for this page view. */
    dismiss() {
      this.hidden = true;
      this.dispatchEvent(new CustomEvent('two-factor-prompt-dismiss', { bubbles: true, composed: true }));
    }

    _text(name, fallback) {
      var value = this.getAttribute(name);
      return value === null || value === '' ? fallback : value;
    }

    _render() {
      var root = this.shadowRoot;
      var count = Math.max(1, parseInt(this.getAttribute('org-count') || '1', 10) || 1);
      var product = this.getAttribute('product-name') || '';
      var reason = this._text('reason', this.hasAttribute('xero') ? XERO : '');
      var href = safeUrl(this.getAttribute('setup-url'));
      var self = this;

      var message = el('p', {}, [this._text('message', defaultMessage(count, product)) + (reason ? ' ' + reason : '')]);
      var text = el('div', { class: 'text' }, [el('h2', {}, [this._text('heading', 'Protect your account with two-factor authentication')]), message]);
      var actions = el('div', { class: 'actions' });
      if (href) actions.appendChild(el('a', { href: href, part: 'setup' }, [this._text('setup-label', 'Set up now')]));
      var notNow = el('button', { type: 'button', part: 'dismiss' }, [this._text('dismiss-label', 'Not now')]);
      notNow.addEventListener('click', function () {
        self.dismiss();
      });
      actions.appendChild(notNow);
      var banner = el('section', { class: 'banner', role: 'region', 'aria-label': this._text('label', 'Two-factor authentication'), part: 'banner' }, [text, actions]);

      root.replaceChildren();
      var style = styleFor(root);
      if (style) root.appendChild(style);
      root.appendChild(banner);
    }
  }

  window.customElements.define('two-factor-prompt', TwoFactorPrompt);
})();
