// A local stand-in for a site-generation model, deterministic, for ai-gate's importer
// examples: it answers per test case from a fixed table; the case "flaky-hero" fails
// its safety check on every second attempt of a provider, and "provider-error"
// returns an error (as a timed-out API would).
const attempts = new Map();

module.exports = class SiteProvider {
  constructor(options) {
    this.providerId = options.id;
    this.label = options.label;
  }

  id() {
    return this.label || this.providerId;
  }

  async callApi(prompt, context) {
    const caseId = context.test.metadata.case_id;
    const key = `${this.id()}/${caseId}`;
    const attempt = (attempts.get(key) || 0) + 1;
    attempts.set(key, attempt);
    if (caseId === 'provider-error') {
      return { error: 'upstream timeout after 45000 ms' };
    }
    const unsafe = caseId === 'unsafe-embed' || (caseId === 'flaky-hero' && attempt % 2 === 0);
    const page = {
      title: `Site for ${context.vars.business}`,
      html: unsafe
        ? '<div class="p-4"><script>track()</script></div>'
        : '<div class="p-4 text-lg">Welcome</div>',
    };
    const body = caseId === 'broken-json' ? '{"title": "unterminated' : JSON.stringify(page);
    return { output: body };
  }
};
