import { html, toHtmlString, trusted } from '../../src/pages/html.template.js';

describe('html templates', () => {
  it('escape every interpolated value, in text and in attributes', () => {
    const hostile = `"><script>alert('x')</script>&=\``;
    const out = toHtmlString(html`<a href="${hostile}" title='${hostile}'>${hostile}</a>`);
    expect(out).not.toContain('<script>');
    expect(out).not.toMatch(/="[^"]*"[^ >]/);
    expect(out).toBe(`<a href="&#34;&#62;&#60;script&#62;alert(&#39;x&#39;)&#60;/script&#62;&#38;&#61;&#96;" title='&#34;&#62;&#60;script&#62;alert(&#39;x&#39;)&#60;/script&#62;&#38;&#61;&#96;'>&#34;&#62;&#60;script&#62;alert(&#39;x&#39;)&#60;/script&#62;&#38;&#61;&#96;</a>`);
  });

  it('insert nested templates and trusted markup as they are, and join arrays', () => {
    const items = ['<b>', 'ok'].map((item) => html`<li>${item}</li>`);
    expect(toHtmlString(html`<ul>${items}</ul>${trusted('<svg></svg>')}`)).toBe('<ul><li>&#60;b&#62;</li><li>ok</li></ul><svg></svg>');
  });

  it('render nothing for null, undefined and false', () => {
    expect(toHtmlString(html`[${null}${undefined}${false}${0}]`)).toBe('[0]');
  });

  it('do not take a look-alike object for trusted markup', () => {
    const forged = JSON.parse('{"trusted-html":"<script>"}') as never;
    expect(toHtmlString(html`${forged}`)).toBe('[object Object]');
  });
});
