// The React tests' page: a fresh element with a fresh React root for each test of the file that
// asks for it, unmounted and removed after that test. The DOM itself is the test file's
// (`// @vitest-environment happy-dom`).
import { act, StrictMode, type ReactNode } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { afterEach, beforeEach } from 'vitest';

// React's act() warns unless the environment says it is a test.
(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

export interface TestPage {
  /** This test's element (in document.body). */
  readonly container: HTMLElement;
  /** This test's React root, rendering into `container`. */
  readonly root: Root;
  /** Renders `node` inside StrictMode (its double mount included) and waits for its effects. */
  render(node: ReactNode): Promise<void>;
}

/** Registers the per-test set-up and tear-down (call it at the top of a test file). */
export function pagePerTest(): TestPage {
  let current: { container: HTMLElement; root: Root } | null = null;
  const now = () => {
    if (!current) throw new Error('the test page exists only while a test runs');
    return current;
  };
  beforeEach(() => {
    const container = document.createElement('div');
    document.body.append(container);
    current = { container, root: createRoot(container) };
  });
  afterEach(() => {
    const { container, root } = now();
    act(() => root.unmount());
    container.remove();
    current = null;
  });
  return {
    get container() {
      return now().container;
    },
    get root() {
      return now().root;
    },
    render: async (node) => {
      const { root } = now();
      await act(async () => root.render(<StrictMode>{node}</StrictMode>));
    },
  };
}
