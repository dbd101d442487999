/**
 * Build DOM nodes without innerHTML.
 *
 * Text from records (titles, notes) is user input: building elements with
 * textContent keeps it from ever becoming markup.
 */

/**
 * Create an element: h('button', {type: 'button', onclick: fn}, 'Claim').
 *
 * Attributes starting with "on" become listeners; `class`, `for` and
 * aria-/data- attributes are set as attributes; boolean true/false toggles an
 * attribute; null or undefined is skipped. Children may be strings, nodes,
 * arrays or null.
 */
export function h(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') {
      element.addEventListener(name.slice(2), value);
    } else if (name === 'value') {
      element.value = value;
    } else if (value === true) {
      element.setAttribute(name, '');
    } else {
      element.setAttribute(name, String(value));
    }
  }
  append(element, children);
  return element;
}

function append(parent, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(parent, child);
    else parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replace everything inside `parent` with `children`. */
export function mount(parent, ...children) {
  parent.replaceChildren();
  append(parent, children);
}
