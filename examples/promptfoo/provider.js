// A local stand-in for a site-generation model, deterministic, for ai-gate's importer
// examples: it answers per test case from a fixed table; the case "flaky-hero" fails
// its safety check on every second attempt of a provider, and "provider-error"
// returns an error (as a timed-out API would). Each answer reports its token usage.
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
    // usage as an API reports it: tokens per call, varying by case and attempt; the
    // "openai" stand-in also reports its cost (gpt-4o's list price), "custom" none
    // (promptfoo then writes a cost of 0, which ai-gate reads as unknown)
    const promptTokens = 40 + 7 * caseId.length;
    const completionTokens = 120 + 30 * caseId.length + 5 * attempt;
    const response = {
      output: body,
      tokenUsage: {
        prompt: promptTokens,
        completion: completionTokens,
        total: promptTokens + completionTokens,
        numRequests: 1,
      },
    };
    if (this.id() === 'openai') {
      response.cost = (promptTokens * 2.5 + completionTokens * 10) / 1e6;
    }
    return response;
  }
};
