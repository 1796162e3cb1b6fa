// The sync-rule editor every frontend shows in Configure sync: CodeMirror 6 with JavaScript, mounted
// into an element the view owns. Framework-free, so the React 16 hub and the React 18 Jira page wrap
// the same editor in a few lines each.
import { javascript } from '@codemirror/lang-javascript';
import { EditorState } from '@codemirror/state';
import { EditorView } from '@codemirror/view';
import { basicSetup } from 'codemirror';

export interface RuleEditorOptions {
  /** The content element's id and accessible name. */
  id: string;
  label: string;
  value: string;
  readOnly?: boolean;
  /** The id of the element that explains the rule's error, when there is one. */
  describedBy?: string | undefined;
  /** Called on the admin's edits only, never for a value set with `setValue`. */
  onChange(value: string): void;
}

export interface RuleEditor {
  /** Replaces the text (a restored default, a reload); does not call onChange. */
  setValue(value: string): void;
  destroy(): void;
}

/** Tab is left to the browser, so keyboard users can move on from the editor. */
export function mountRuleEditor(parent: HTMLElement, options: RuleEditorOptions): RuleEditor {
  const attributes: Record<string, string> = { 'aria-label': options.label, id: options.id };
  if (options.describedBy) attributes['aria-describedby'] = options.describedBy;
  let settingValue = false;
  const view = new EditorView({
    parent,
    state: EditorState.create({
      doc: options.value,
      extensions: [
        basicSetup,
        javascript(),
        EditorState.readOnly.of(!!options.readOnly),
        EditorView.editable.of(!options.readOnly),
        EditorView.contentAttributes.of(attributes),
        EditorView.updateListener.of((update) => {
          if (update.docChanged && !settingValue) options.onChange(update.state.doc.toString());
        }),
      ],
    }),
  });
  return {
    setValue(value) {
      if (view.state.doc.toString() === value) return;
      settingValue = true;
      try {
        view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: value } });
      } finally {
        settingValue = false;
      }
    },
    destroy: () => view.destroy(),
  };
}
