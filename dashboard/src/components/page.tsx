/**
 * A page's heading and title. When you move to another page the heading takes focus, so a keyboard or screen
 * reader user lands on the new page's content; the first page the dashboard opens leaves focus at the start of the
 * document, where the skip link is. The document title says where you are.
 */
import type { ComponentChildren } from "preact";
import { useEffect, useRef } from "preact/hooks";

/** Whether a page has been shown yet in this document. */
let firstPageShown = false;

export function Page({ title, actions, children }: { title: string; actions?: ComponentChildren; children: ComponentChildren }) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${title} · okta-hooks-edge`;
    if (firstPageShown) heading.current?.focus({ preventScroll: false });
    firstPageShown = true;
  }, [title]);
  return (
    <>
      <div class="page-head">
        <h1 ref={heading} tabIndex={-1}>
          {title}
        </h1>
        {actions ? <div class="page-actions">{actions}</div> : null}
      </div>
      {children}
    </>
  );
}
