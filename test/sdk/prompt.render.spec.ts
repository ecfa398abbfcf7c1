import { renderPrompt, type EnforcementDecision } from '../../sdk/two-factor-sdk.js';

const prompt = (enforcedBy: EnforcementDecision['enforcedBy']): EnforcementDecision => ({ requirement: 'soft', action: 'prompt', twoFactorEnabled: false, enforcedBy });
const oneXeroOrg = prompt([{ orgId: 'acme', mode: 'soft', xeroConnected: true }]);
const HOSTILE = `"><script>alert(1)</script><img src=x onerror=alert(2)>'&\``;

describe('renderPrompt', () => {
  it('renders nothing unless the decision is prompt', () => {
    for (const action of ['allow', 'redirect'] as const) expect(renderPrompt({ ...oneXeroOrg, action }, { setupUrl: '/2fa/setup' })).toBe('');
    expect(renderPrompt(null, { setupUrl: '/2fa/setup' })).toBe('');
    expect(renderPrompt(undefined, { setupUrl: '/2fa/setup' })).toBe('');
  });

  it('says who asks and why, links Set up now, and offers Not now without JavaScript', () => {
    const html = renderPrompt(oneXeroOrg, { setupUrl: '/2fa/setup', productName: 'Approvals' });
    expect(html).toMatch(/^<two-factor-prompt setup-url="\/2fa\/setup" org-count="1" xero="" product-name="Approvals"/);
    expect(html).toContain('An organisation you belong to in Approvals asks you to set up two-factor authentication.');
    expect(html).toContain('required for Xero');
    expect(html).toContain('<a class="tfp-setup" href="/2fa/setup">Set up now</a>');
    expect(html).toMatch(/<a class="tfp-setup"[^>]*>Set up now<\/a> <input type="checkbox" class="tfp-dismiss" id="(tfp-[0-9a-f]+)"><label class="tfp-not-now" for="\1">Not now<\/label>/);
    expect(html).toContain('<section class="tfp-banner" aria-label="Two-factor authentication">');
  });

  it('counts organisations and names Xero only when an enforcing organisation is connected', () => {
    const html = renderPrompt(
      prompt([
        { orgId: 'a', mode: 'soft', xeroConnected: false },
        { orgId: 'b', mode: 'soft', xeroConnected: false },
      ]),
      { setupUrl: '/2fa/setup' },
    );
    expect(html).toContain('2 organisations you belong to ask you to set up two-factor authentication.');
    expect(html).not.toContain('Xero');
    expect(html).not.toContain(' xero=');
  });

  it('gives each banner its own toggle, so two never hide each other', () => {
    const ids = [renderPrompt(oneXeroOrg, { setupUrl: '/s' }), renderPrompt(oneXeroOrg, { setupUrl: '/s' })].map((html) => /id="(tfp-[0-9a-f]+)"/.exec(html)![1]);
    expect(ids[0]).not.toBe(ids[1]);
  });

  it('escapes every value, in text and in attributes', () => {
    const html = renderPrompt(oneXeroOrg, {
      setupUrl: `/setup?next=${HOSTILE}`,
      productName: HOSTILE,
      nonce: HOSTILE,
      strings: { label: HOSTILE, heading: HOSTILE, message: () => HOSTILE, xeroReason: HOSTILE, setUp: HOSTILE, notNow: HOSTILE },
    });
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('<img');
    expect(html).not.toMatch(/"\s*onerror=/);
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    // Only the elements the banner itself writes, each attribute value closed where it should be.
    const tags = [...html.matchAll(/<([a-z][a-z0-9-]*)/g)].map((m) => m[1]);
    expect(new Set(tags)).toEqual(new Set(['two-factor-prompt', 'style', 'input', 'section', 'p', 'strong', 'a', 'label']));
    for (const [, value] of html.matchAll(/="([^"]*)"/g)) expect(value).not.toMatch(/[<>'`]/);
  });

  it('refuses a setup URL that is not http(s) or a path on the host', () => {
    for (const setupUrl of ['javascript:alert(1)', ' javascript:alert(1)', 'data:text/html,x', '//evil.example/x', '/\\evil.example']) {
      expect(() => renderPrompt(oneXeroOrg, { setupUrl })).toThrow(TypeError);
    }
    expect(renderPrompt(oneXeroOrg, { setupUrl: 'https://app.example.test/2fa' })).toContain('href="https://app.example.test/2fa"');
  });

  it('takes translated strings, with the context for sentences', () => {
    const html = renderPrompt(oneXeroOrg, {
      setupUrl: '/s',
      strings: { setUp: 'Configurer', notNow: 'Plus tard', message: ({ count }) => `${count} organisation(s) vous le demandent.` },
    });
    expect(html).toContain('setup-label="Configurer"');
    expect(html).toContain('>Plus tard</label>');
    expect(html).toContain('1 organisation(s) vous le demandent.');
  });

  it('scopes its fallback stylesheet to the element and carries the page nonce', () => {
    const html = renderPrompt(oneXeroOrg, { setupUrl: '/s', nonce: 'abc123' });
    const css = /<style nonce="abc123">(.*?)<\/style>/s.exec(html)![1]!;
    for (const rule of css.split('}').filter(Boolean)) {
      const selectors = rule.slice(0, rule.indexOf('{')).split(',');
      for (const selector of selectors) expect(selector.trim()).toMatch(/^two-factor-prompt(\s|:has\([^)]*\)\s|$)/);
    }
  });
});
