/** Draw one notice's text in a language, marked with the language it is really in. */
import { h } from '../ui/dom.js';
import { pickLanguage } from './rules.js';

/** Return [title, body] nodes of `notice` for `language` (falling back to zh-CN), and the language used. */
export function noticeText(notice, language, { heading = 'h2' } = {}) {
  const title = pickLanguage(notice.fields.title, language);
  const body = pickLanguage(notice.fields.body, language);
  return {
    language: title.language,
    nodes: [
      h(heading, { class: 'notice-title', lang: title.language }, title.text),
      h('p', { class: 'notice-body prewrap', lang: body.language }, body.text),
    ],
  };
}
