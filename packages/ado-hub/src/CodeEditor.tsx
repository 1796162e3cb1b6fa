import * as React from 'react';
import { mountRuleEditor, type RuleEditor } from '@exalate/rule-editor';

/** The sync-rule editor of @exalate/rule-editor, in a React 16 view. */
export function CodeEditor(props: {
  id: string;
  label: string;
  value: string;
  onChange: (value: string) => void;
  readOnly?: boolean;
  describedBy?: string;
}): JSX.Element {
  const host = React.useRef<HTMLDivElement>(null);
  const editor = React.useRef<RuleEditor | null>(null);
  const onChange = React.useRef(props.onChange);
  onChange.current = props.onChange;

  React.useEffect(() => {
    editor.current = mountRuleEditor(host.current!, {
      id: props.id,
      label: props.label,
      value: props.value,
      readOnly: !!props.readOnly,
      describedBy: props.describedBy,
      onChange: (v) => onChange.current(v),
    });
    return () => editor.current?.destroy();
  }, [props.readOnly]);

  // A value set from outside (a restored default, a reload) replaces the text.
  React.useEffect(() => editor.current?.setValue(props.value), [props.value]);

  return <div className="exalate-editor" ref={host} />;
}
