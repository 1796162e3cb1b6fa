import * as React from 'react';
import { javascript } from '@codemirror/lang-javascript';
import { EditorState } from '@codemirror/state';
import { EditorView } from '@codemirror/view';
import { basicSetup } from 'codemirror';

/**
 * A JavaScript editor (CodeMirror 6) for sync rules. Tab is left to the browser, so keyboard users
 * can move on; the content element is labelled for assistive technology.
 */
export function CodeEditor(props: { id: string; label: string; value: string; onChange: (value: string) => void; readOnly?: boolean; describedBy?: string }): JSX.Element {
  const host = React.useRef<HTMLDivElement>(null);
  const view = React.useRef<EditorView | null>(null);
  const onChange = React.useRef(props.onChange);
  onChange.current = props.onChange;
  const value = React.useRef(props.value);
  value.current = props.value;

  React.useEffect(() => {
    const attributes: Record<string, string> = { 'aria-label': props.label, id: props.id };
    if (props.describedBy) attributes['aria-describedby'] = props.describedBy;
    view.current = new EditorView({
      parent: host.current!,
      state: EditorState.create({
        doc: props.value,
        extensions: [
          basicSetup,
          javascript(),
          EditorState.readOnly.of(!!props.readOnly),
          EditorView.editable.of(!props.readOnly),
          EditorView.contentAttributes.of(attributes),
          EditorView.updateListener.of((update) => {
            // Only the admin's edits: a value set from outside is already the flow's.
            if (update.docChanged && update.state.doc.toString() !== value.current) onChange.current(update.state.doc.toString());
          }),
        ],
      }),
    });
    return () => view.current?.destroy();
  }, [props.readOnly]);

  // A value set from outside (a restored default, a reload) replaces the text.
  React.useEffect(() => {
    const v = view.current;
    if (v && v.state.doc.toString() !== props.value) v.dispatch({ changes: { from: 0, to: v.state.doc.length, insert: props.value } });
  }, [props.value]);

  return <div className="exalate-editor" ref={host} />;
}
